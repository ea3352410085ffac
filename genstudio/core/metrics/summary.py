"""Plain-text summary of a diagnostics report (genstudio/core/metrics/report.py), for the CLI and the app."""

from __future__ import annotations

from genstudio.core.metrics.verdict import NOTE_COPIES


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def verdict_lines(report: dict) -> list[str]:
    """The report for a person: the verdict's sentence, what to try, the notes, then every figure
    beside the real data's own value at the same count with its gauge and technical name."""
    v = report["verdict"]
    lines = [v["sentence"], "", "What to try:"] + [f"  - {a}" for a in v["advice"]]
    if v["notes"]:
        lines += ["", "Worth a look:"] + [f"  - {n}" for n in v["notes"]]
    rows = report["figures"]
    width = max(len(r["name"]) for r in rows)
    lines += ["", f"{'figure':{width}s}  {'value':>10s}  {'data own':>10s}  gauge  (technical name)"]
    for r in rows:
        lines.append(f"{r['name']:{width}s}  {r['text']:>10s}  {r['real_text']:>10s}  {r['gauge'] or '-':5s}  ({r['technical']})")
    lines.append(f"(the data's own values: {report['real_reference']['rule']})")
    return lines


def summary_lines(report: dict) -> list[str]:
    """verdict_lines, then the technical figures with their settings."""
    return verdict_lines(report) + ["", "Technical details:"] + technical_lines(report)


def technical_lines(report: dict) -> list[str]:
    """Every figure with its settings, for people who want the technical names."""
    lines = []
    lines.append(f"{report['fake_samples']} generated vs {report['real_samples']} real samples of "
                 f"{report['dataset']['name']}; features: {report['features']['description']}")
    if report.get("translation"):
        lines += translation_lines(report["translation"])
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
    birthday = d["birthday"]["support_estimate"] or d["birthday"]["support_bound"]
    support = d["support"]["estimate"]
    lines.append(f"duplicates: {d['duplicate_pairs']} pairs closer than {d['threshold']:.3g} "
                 f"({100 * d['duplicate_fraction']:.2f} % of samples have one; real data "
                 f"{100 * d['real_duplicate_fraction']:.2f} %); {d['distinct']} distinct outputs; support "
                 f"{'~ %.0f' % support if support is not None else d['support']['bound']} by the collision count "
                 f"outside the largest cluster, ~ {birthday} by the birthday test")
    if d["real_exact_copies"] > 0:
        lines.append(f"the real data holds exact duplicates: {100 * d['real_exact_copies']:.1f} % of its samples have "
                     "an identical twin (left out of the duplicate threshold)")
    lines += _distance_lines(report)
    lines.append(f"diversity ratio {report['diversity']['ratio']:.3f} (mean pairwise feature distance, generated / real)")
    sharp = report.get("sharpness")
    if sharp and sharp["ratio"] is not None:
        lines.append(f"sharpness {sharp['ratio']:.3f} x the real images' (mean squared Laplacian)")
    regions = report["regions"]
    lines.append(f"regions: {regions['settings']['kind']}; {regions['settings']['empty_rule']}")
    for r in regions["empty"] + report.get("sparse_regions", [])[:3]:
        bound = "n/a" if r["ratio_upper"] is None else f"{r['ratio_upper']:.2f}"
        lines.append(f"  {r['name']}: {r['real']} real, {r['generated']} generated (share ratio "
                     f"{0.0 if r['ratio'] is None else r['ratio']:.2f}, upper bound {bound})")
    for c in [c for c in d["clusters"] if c["size"] >= NOTE_COPIES][:3]:
        lines.append(f"  repeated output: {c['size']} copies ({100 * c['share']:.1f} % of the samples)")
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


def translation_lines(section: dict) -> list[str]:
    """A translation's inputs, label agreement and cycle error (report["translation"])."""
    source = section["source"]
    lines = [f"the generated samples translate {section['samples']} images of {source.get('source') or source['name']} "
             f"({section['direction']})" + (f", {section['style']}" if section["style"] else "")]
    a = section["label_agreement"]
    if a["agreement"] is None:
        lines.append(f"label agreement: n/a ({a['reason']})")
    else:
        lines.append(f"label agreement {a['agreement']:.3f}: translations the target's classifier labels as their input's "
                     f"class (its held-out accuracy on real target images {a['classifier_accuracy']:.3f}; outputs "
                     f"unrelated to their inputs would agree {a['independent']:.3f})")
        lines.append("  by input class: " + "  ".join(f"{n}:{_fmt(v, 2)}" for n, v in zip(a["class_names"], a["per_class"])))
        if a["confusions"]:
            lines.append("  commonest slips: " + ", ".join(f"{c['input']} read as {c['read_as']} ({c['count']})"
                                                         for c in a["confusions"]))
    c = section["cycle_error"]
    lines.append(f"cycle error: n/a ({c['reason']})" if c["mean"] is None else
                 f"cycle error {c['mean']:.4f} (mean |x - round trip| in [0, 1] pixels over {c['samples']} inputs; "
                 f"median {c['median']:.4f}, worst {c['max']:.4f})")
    return lines
