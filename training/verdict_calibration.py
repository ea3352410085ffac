"""The verdict's calibration table (docs/diagnostics.md, "Calibration"): generators whose answer is
known, on two labelled data sets, at 2,000 and 5,000 samples.

Rows come from training/verdict_cases.py: changes of style that keep every mode (the verdict must
never say "missing modes") and mode losses (it must say so every time). Each row prints the figures
the verdict reads, beside the real data's own value where one exists, and the verdict; the last
column says whether the verdict is the known answer. Takes about 10 minutes on two cores.

    .venv/bin/python training/verdict_calibration.py [--samples 2000 5000] [--sets mnist mnist-inverted-thick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import verdict_cases as vc  # noqa: E402

from genstudio.core.data.spec import load_dataset  # noqa: E402
from genstudio.core.metrics.classifier import feature_space  # noqa: E402

SETS = ("mnist", "mnist-inverted-thick")


def calibration_set(name: str):
    mnist = load_dataset("mnist")
    return mnist if name == "mnist" else vc.inverted_thick(mnist)


def row(case: vc.Case, report: dict) -> str:
    p, real = report["prdc"], report["real_reference"]["prdc"]
    classes = report["classes"]
    bound = min(u for u in classes["share_ratio_upper"] if u is not None)
    region = report["regions"]["regions"][0]["ratio_upper"]
    dup = report["duplicates"]
    support = "—" if dup["support"]["estimate"] is None else f"{dup['support']['estimate']:.0f}"
    v = report["verdict"]["verdict"]
    right = ("missing modes" not in v) if case.keeps_modes else ("missing modes" in v)
    return (f"| {case.name} | {report['fake_samples']} | {p['precision']:.2f} ({real['precision']:.2f}) | "
            f"{p['density']:.2f} | {p['precision_trimmed']:.2f} ({real['precision_trimmed']:.2f}) | "
            f"{report['sharpness']['ratio']:.2f} | {p['coverage']:.2f} ({real['coverage']:.2f}) | "
            f"{report['ndb']['ndb_over_k']:.2f} ({report['real_reference']['ndb']['ndb_over_k']:.2f}) | "
            f"{classes['kl_data']:.4f} | {bound:.2f} | {region:.2f} | {support} | {v} | {'yes' if right else '**no**'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    args = parser.parse_args()
    print("Figures in brackets: the real data's own value at the same count. 'class bound': the lowest upper "
          "bound on a class's generated/real share ratio (starved below 0.5); 'region bound': the same for the "
          "emptiest region (left empty below 1/3); support: distinct outputs by the collision count outside "
          "the largest repeated image (— : no collision, more than the samples).\n")
    for name in args.sets:
        dataset = calibration_set(name)
        space = feature_space(dataset)
        for n in args.samples:
            print(f"\n**{name}, {n} samples**\n")
            print("| generator | drawn | precision | density | trimmed precision | sharpness | coverage | NDB/K | "
                  "KL classes | class bound | region bound | support | verdict | right |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for case in vc.CASES:
                report = vc.diagnose_case(case, dataset, space, n)
                print(row(case, report), flush=True)


if __name__ == "__main__":
    main()
