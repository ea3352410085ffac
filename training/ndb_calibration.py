"""How large is an NDB signal? Reproduce the calibration table of docs/diagnostics.md.

NDB/K counts the k-means bins whose shares differ significantly, so its size depends on the sample
count as well as on the model. This script measures it, with the rest of genstudio's report, for
changes of real digits whose answer is known, and for any checkpoints given, all at the same count:
one random half of the bundled MNIST test set is the real data (5,000 digits), and the "generators"
are the other half, changed:
- unchanged (the floor: sampling noise);
- rotated by up to 8 degrees, or scaled by 0.93-1.07, at random per digit: every mode kept;
- classes 0, 1 and 2 drawn 1.5 x as often as the others; every 9 removed (the reference "missing
  mode" of Richardson & Weiss's MNIST demo, docs/diagnostics.md);
- and each checkpoint's own samples (classes asked for in turn, as `genstudio diagnose` does).

    .venv/bin/python training/ndb_calibration.py [resources/checkpoints/gan-mnist.safetensors ...]

The features are the bundled MNIST classifier's, fitted on the whole test set, as in every report.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genstudio.core.data.spec import load_dataset  # noqa: E402
from genstudio.core.io.open_model import open_model  # noqa: E402
from genstudio.core.metrics.classifier import feature_space, random_affine  # noqa: E402
from genstudio.core.metrics.report import diagnose, generate  # noqa: E402

HALF = 5000


class Pool:
    """Fixed images (n, C, H, W) in [0, 1] posing as a generator: the report draws them in order."""

    smooth_latent = False
    num_classes = 0
    latent_dim = 1
    device = torch.device("cpu")

    def __init__(self, images: torch.Tensor):
        self.images, self.data_shape, self.cursor = images, tuple(images.shape[1:]), 0

    def sample_latents(self, n: int, generator=None) -> torch.Tensor:
        return torch.zeros(n, 1)

    def decode(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        out = self.images[self.cursor:self.cursor + len(z)]
        self.cursor += len(z)
        return out


def resample(x: torch.Tensor, weights: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """HALF images drawn from x (n, ...) with probabilities proportional to weights (n,)."""
    return x[torch.multinomial(weights, HALF, replacement=True, generator=rng)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", type=Path)
    args = parser.parse_args()
    mnist = load_dataset("mnist")
    space = feature_space(mnist)
    perm = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(7))
    real_index, other_index = perm[:HALF], perm[HALF:2 * HALF]
    real = dataclasses.replace(mnist, data=mnist.data[real_index], labels=mnist.labels[real_index])
    other, labels = mnist.data[other_index].float() / 255, mnist.labels[other_index]      # (5000, 1, 28, 28)
    rng = torch.Generator().manual_seed(3)
    cases = {
        "real digits (the other half)": lambda: other,
        "rotated by up to 8 degrees": lambda: random_affine(other, rng, degrees=8),
        "scaled by 0.93-1.07": lambda: random_affine(other, rng, scale=0.07),
        "classes 0-2 drawn 1.5 x as often": lambda: resample(other, 1 + 0.5 * (labels <= 2).float(), rng),
        "every 9 removed": lambda: resample(other, (labels != 9).float(), rng),
    }
    for path in args.checkpoints:
        cases[path.stem] = lambda path=path: generate(open_model(path).model, HALF, seed=11)
    print(f"{HALF} vs {HALF} digits; NDB with K = 100 bins; JS in nats; 'under' = bins the generator under-fills")
    print("| generator | precision | recall | coverage | NDB/K (under) | bins' JS | Fréchet | verdict |")
    print("|---|---|---|---|---|---|---|---|")
    for name, make in cases.items():
        report = diagnose(Pool(make()), real, samples=HALF, space=space)
        p, ndb = report["prdc"], report["ndb"]
        print(f"| {name} | {p['precision']:.2f} | {p['recall']:.2f} | {p['coverage']:.2f} | "
              f"{ndb['ndb_over_k']:.2f} ({len(ndb['underfilled_bins'])}) | {ndb['js']:.4f} | "
              f"{report['frechet']['fd']:.1f} | {report['verdict']['verdict']} |", flush=True)


if __name__ == "__main__":
    main()
