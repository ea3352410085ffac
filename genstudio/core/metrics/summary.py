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
                 f"({100 * d['duplicate_fraction']:.2f} % of samples have one; real data "
                 f"{100 * d['real_duplicate_fraction']:.2f} %); birthday-paradox support ~ {support}")
    if d["real_exact_copies"] > 0:
        lines.append(f"the real data holds exact duplicates: {100 * d['real_exact_copies']:.1f} % of its samples have "
                     "an identical twin (left out of the duplicate threshold)")
    lines += _distance_lines(report)
    lines.append(f"diversity ratio {report['diversity']['ratio']:.3f} (mean pairwise feature distance, generated / real)")
    sharp = report.get("sharpness")
    if sharp and sharp["ratio"] is not None:
        lines.append(f"sharpness {sharp['ratio']:.3f} x the real images' (mean squared Laplacian)")
    v = report["verdict"]
    lines.append(f"verdict: {v['verdict']}")
    for label, key in (("missing modes", "missing_modes"), ("low fidelity", "low_fidelity"), ("unclear", "unclear")):
        if v[key]:
            lines.append(f"  {label}: " + "; ".join(v[key]))
    lines.append(f"took {report['timings']['total']:.1f} s")
    return lines


def _distance_lines(report: dict) -> list[str]:
    """Fréchet distance with its bias, KID, classifier score and path length."""
    f = report["frechet"]
    lines = [f"Frechet distance {f['fd']:.3f} ({f['settings']['feature_space']}, "
             f"{f['settings']['real_samples']} vs {f['settings']['fake_samples']})"]
    by_n = f.get("by_samples")
    if by_n:
        lines.append("  FD by sample count: " + ", ".join(f"{n}: {v:.3f}" for n, v in zip(by_n["samples"], by_n["fd"])))
        if by_n["fd_infinity"] is not None:
            lines.append(f"  fit FD(n) = FD_inf + b/n: FD_inf {by_n['fd_infinity']:.3f}, bias at n = {by_n['bias_at']}: "
                         f"{by_n['bias']:.3f}")
    k = report["kid"]
    lines.append(f"KID {k['kid']:.4g} +- {k['standard_error']:.2g} (standard error; {k['settings']['blocks']} disjoint "
                 f"blocks of {k['settings']['block_size']}; 0 for the same distribution)")
    score = report.get("classifier_score")
    if score:
        lines.append(f"classifier score (Inception Score analogue) {score['fake']['mean']:.3f} +- {score['fake']['std']:.3f}; "
                     f"real data {score['real']['mean']:.3f} +- {score['real']['std']:.3f} (at most {score['settings']['max']})")
    ppl = report.get("path_length")
    if ppl:
        lines.append(f"perceptual path length {ppl['ppl']:.4g} (classifier features, {ppl['settings']['pairs']} slerp "
                     f"pairs, eps {ppl['settings']['epsilon']:g})")
    return lines
