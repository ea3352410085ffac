"""Plain-text summary of a diagnostics report (genstudio/core/metrics/report.py), for the CLI and the app."""

from __future__ import annotations


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary_lines(report: dict) -> list[str]:
    lines = [f"{report['fake_samples']} generated vs {report['real_samples']} real samples of "
             f"{report['dataset']['name']}; features: {report['features']['description']}"]
    toy = report.get("toy")
    if toy:
        lines.append(f"modes covered {toy['modes_covered']}/{toy['num_modes']} "
                     f"({toy['settings']['covered_rule']}); high-quality samples {toy['hq_percent']:.1f} % "
                     f"({toy['settings']['hq_rule']}, {toy['samples']} samples); KL(modes || uniform) "
                     f"{_fmt(toy['kl_modes_uniform'])} nats")
    classes = report.get("classes")
    if classes:
        lines.append(f"classes covered {classes['classes_covered']}/{classes['num_classes']} "
                     f"({classes['settings']['covered_rule']}); KL(p_gen || uniform) "
                     f"{_fmt(classes['kl_uniform'])} nats; KL(p_gen || p_data) {_fmt(classes['kl_data'])} nats")
        lines.append("class histogram: " + "  ".join(f"{n}:{c}" for n, c in zip(classes["class_names"], classes["counts"])))
    p = report["prdc"]
    lines.append(f"precision {p['precision']:.3f}, recall {p['recall']:.3f} (k = {p['settings'].get('k_precision_recall', 3)}); "
                 f"density {p['density']:.3f}, coverage {p['coverage']:.3f} (k = {p['settings'].get('k_density_coverage', 5)}; "
                 f"same-distribution coverage would be {p['coverage_expected_same_distribution']:.3f})")
    n = report["ndb"]
    lines.append(f"NDB {n['ndb']}/{n['settings']['K']} bins differ (NDB/K {n['ndb_over_k']:.3f}), "
                 f"JS {n['js']:.4f} nats")
    d = report["duplicates"]
    support = d["birthday"]["support_estimate"] or d["birthday"]["support_bound"]
    lines.append(f"duplicates: {d['duplicate_pairs']} pairs closer than {d['threshold']:.3g} "
                 f"({100 * d['duplicate_fraction']:.2f} % of samples have one); birthday-paradox support ~ {support}")
    lines.append(f"Frechet distance {report['frechet']['fd']:.3f} ({report['frechet']['settings']['feature_space']}, "
                 f"{report['frechet']['settings']['real_samples']} vs {report['frechet']['settings']['fake_samples']})")
    lines.append(f"diversity ratio {report['diversity']['ratio']:.3f} (mean pairwise feature distance, generated / real)")
    signals = report.get("signals") or []
    lines.append("collapse signals: " + ("; ".join(signals) if signals else "none"))
    lines.append(f"took {report['timings']['total']:.1f} s")
    return lines
