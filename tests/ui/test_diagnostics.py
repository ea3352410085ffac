"""The Diagnostics tab on a demo checkpoint and on a generator that drops a class and repeats an
image, and live diagnostics while a GAN trains."""

import html
import json

import numpy as np
import torch

from genstudio.core.metrics.report import DEFAULT_SAMPLES
from genstudio.core.requests.tasks import Diagnose, TaskState
from genstudio.ui import theme
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.widgets.figure_table import NO_GAUGE

from test_train import configure  # tests/ui is on sys.path (no package)

COPIES = 60


class ReplayWithoutSevens:
    """A 'generator' whose samples are real MNIST digits other than 7, drawn without replacement,
    the first COPIES of each batch one same digit: every sample is faithful, one class is missing
    and one image is repeated. Latents (n, 1) are indices into that pool."""

    latent_dim = 1
    latent_shape = (1,)
    smooth_latent = False              # indices: no perceptual path length

    def __init__(self, mnist):
        self.pool = mnist.data[mnist.labels != 7].float() / 255          # (P, 1, 28, 28)
        self.data_shape = tuple(mnist.shape)

    def sample_latents(self, n, generator):
        return torch.randperm(len(self.pool), generator=generator)[:n].float()[:, None]

    def decode(self, z):
        index = z[:, 0].long()
        index[:COPIES] = index[0]
        return self.pool[index]


def legend_names(chart) -> list[str]:
    return [label.text for _, label in chart.getPlotItem().legend.items]


def assert_figures_table(panel, report) -> None:
    table, colours = panel.figures, theme.current()
    assert table.rowCount() == len(report["figures"]) > 10
    for i, row in enumerate(report["figures"]):
        cells = [table.item(i, c).text() for c in range(table.columnCount())]
        assert cells == [row["name"], row["text"], row["real_text"], row["gauge"] or NO_GAUGE, row["technical"]]
        tip = table.item(i, 0).toolTip()
        assert row["definition"] in tip and row["technical"] in tip and (row["band"] or "no gauge") in tip
        if row["gauge"]:
            expected = {"good": colours.ok, "fair": colours.warning, "poor": colours.error}[row["gauge"]]
            assert table.gauge(i).foreground().color().name() == expected
    assert any(row["gauge"] for row in report["figures"])


def test_full_report_on_the_demo_gan(qtbot, window, tmp_path):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    panel = window.diagnostics
    assert panel.data.currentText() == "mnist" and panel.samples.value() == DEFAULT_SAMPLES
    panel.samples.setValue(1000)
    with qtbot.waitSignal(panel.tasks.finished, timeout=600000):
        panel.run_button.click()
    report = panel.report
    assert report["fake_samples"] == 1000 and report["classes"]["num_classes"] == 10
    # The verdict's sentence first, in its colour, then what to try.
    verdict = report["verdict"]
    assert html.escape(verdict["sentence"]) in panel.verdict.text()
    colours = theme.current()
    colour = {"no problem found": colours.ok, "low fidelity": colours.warning}.get(verdict["verdict"], colours.error)
    assert colour in panel.verdict.text()
    assert all(html.escape(advice) in panel.advice.text() for advice in verdict["advice"])
    assert_figures_table(panel, report)
    # Charts with legends and axis names.
    assert legend_names(panel.class_plot) == ["generated", "data"]
    assert legend_names(panel.prdc_plot) == ["generated", "real data's own"]
    assert legend_names(panel.ndb_plot) == ["data", "generated", "generated, significantly different"]
    assert panel.class_plot.getAxis("left").labelText == "share of samples"
    assert panel.ndb_plot.getAxis("bottom").labelText == "k-means bin"
    assert np.isclose(sum(panel.class_bars.opts["height"]), 1.0)          # class shares of generated samples
    assert list(panel.prdc_bars.opts["height"]) == [report["prdc"][k] for k in ("precision", "recall", "density", "coverage")]
    assert list(panel.prdc_real.opts["height"])[0] == report["real_reference"]["prdc"]["precision"]
    assert len(panel.ndb_fake.opts["height"]) + len(panel.ndb_different.opts["height"]) == 100
    assert len(panel.ndb_different.opts["height"]) == len(report["ndb"]["different_bins"])
    # What is missing: the empty and sparse regions as pictures, or one line saying nothing is.
    rows = report["regions"]["empty"] + report["sparse_regions"]
    assert len(panel.missing_rows.rows) == min(4, len(rows))
    assert rows or panel.missing_label.text().startswith("Nothing is missing")
    assert panel.result.pair_images.shape == (20, 2, 1, 28, 28)            # the closest pairs, side by side
    assert panel.pairs_view.image() is not None
    assert "Frechet distance" in panel.summary.text() and "features:" in panel.summary.text()
    assert "perceptual path length" in panel.summary.text() and "KID" in panel.summary.text()
    path = panel.save_json(str(tmp_path / "report.json"))
    assert json.load(open(path))["prdc"]["settings"]["k_density_coverage"] == 5


def test_what_is_missing_and_repeated_is_shown_as_pictures(qtbot, window, mnist):
    panel = window.diagnostics
    result = Diagnose("mnist", 1000, dataset=mnist).run(ReplayWithoutSevens(mnist), TaskState())
    report = result.report
    assert report["verdict"]["verdict"] == "missing modes"
    panel.show_result(result, window.scope.generation)
    assert html.escape(report["verdict"]["sentence"]) in panel.verdict.text()
    assert theme.current().error in panel.verdict.text()
    assert "missing modes:" in panel.signals.text()
    # The ways of drawing 7 are left empty: their real examples beside the nearest generated images.
    sevens = [r for r in report["regions"]["empty"] if r["class"] == 7]
    assert sevens
    captions = panel.missing_rows.captions()
    for region in sevens:
        assert any(c.startswith(f"a way of drawing 7: {region['real']} real, {region['generated']} generated")
                   for c in captions)
    for _, views in panel.missing_rows.rows:
        assert len(views) == 2 and all(v.image() is not None for v in views)
    real_strip = panel.missing_rows.rows[0][1][0].image()
    assert real_strip.width() > 7 * 28 and real_strip.height() >= 28    # 8 examples in a row
    # The repeated digit, with its count.
    assert panel.repeat_rows.captions()[0] == f"{COPIES} copies of one image ({100 * COPIES / 1000:.1f} % of the samples)"
    assert panel.repeat_rows.views()[0].image() is not None
    assert_figures_table(panel, report)
    # Another model: the pictures go with the report. The PixelCNN demo, trained on mnist[:9000], is
    # diagnosed against the whole of mnist.
    pixelcnn = next(p for p in demo_checkpoints() if p.stem == "pixelcnn-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=60000):
        window.open_path(pixelcnn)
    assert window.scope.info.data_source == "mnist[0:9000]" and panel.data.currentText() == "mnist"
    assert panel.missing_rows.captions() == () and panel.repeat_rows.captions() == ()
    assert panel.figures.rowCount() == 0 and window.scope.stale() == []


def test_live_diagnostics_plot_and_collapse_banner(qtbot, window, tmp_path):
    panel = window.train
    configure(panel, tmp_path, "gan", preset="mlp")
    panel.diagnostics_every.setValue(20)
    panel.start()
    # The first figures need the feature classifier (trained once per data set, in that thread).
    qtbot.waitUntil(lambda: len(panel.plot.metric_points.get("coverage", ([], []))[0]) >= 2, timeout=600000)
    steps = panel.plot.metric_points["coverage"][0]
    assert steps[1] >= steps[0] + 20
    assert "classes covered" in panel.plot.metric_curves and panel.plot.metrics_plot.isVisible()
    panel.stop(wait=True)

    # The banner names the signals that fired: here coverage halves and classes vanish while D wins.
    panel._on_metrics(10, {"coverage": 0.6, "classes_covered": 10, "num_classes": 10, "diversity": 0.9})
    assert panel.collapse_label.isHidden()
    panel.last_report = type("R", (), {"scalars": {"d_real": 0.95, "d_fake": 0.05}})()
    panel._on_metrics(20, {"coverage": 0.1, "classes_covered": 2, "num_classes": 10, "diversity": 0.8})
    text = panel.collapse_label.text()
    assert not panel.collapse_label.isHidden()
    assert "classes covered fell from 10 to 2" in text and "coverage fell" in text and "D wins" in text
