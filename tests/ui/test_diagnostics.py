"""The Diagnostics tab on a demo checkpoint, and live diagnostics while a GAN trains."""

import numpy as np

from genstudio.ui.model_list import demo_checkpoints

from test_train import configure  # tests/ui is on sys.path (no package)


def test_full_report_on_the_demo_gan(qtbot, window, tmp_path):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    panel = window.diagnostics
    assert panel.data.currentText() == "mnist"
    panel.samples.setValue(1000)
    with qtbot.waitSignal(panel.tasks.finished, timeout=600000):
        panel.run_button.click()
    report = panel.report
    assert report["fake_samples"] == 1000 and report["classes"]["num_classes"] == 10
    assert np.isclose(sum(panel.class_bars.opts["height"]), 1.0)          # class shares of generated samples
    assert list(panel.prdc_bars.opts["height"]) == [report["prdc"][k] for k in ("precision", "recall", "density", "coverage")]
    assert len(panel.ndb_fake.opts["height"]) == 100
    assert panel.pair_images.shape == (20, 2, 1, 28, 28)                   # the closest pairs, side by side
    assert panel.pairs_view.image() is not None
    assert "Frechet distance" in panel.summary.text() and "features:" in panel.summary.text()
    # the banner states the verdict and the signals behind it
    verdict = report["verdict"]
    banner = panel.verdict.text()
    assert ("Missing modes:" in banner) == bool(verdict["missing_modes"])
    assert ("Low fidelity:" in banner) == bool(verdict["low_fidelity"])
    assert ("No problem found" in banner) == (verdict["verdict"] == "no problem found")
    assert "perceptual path length" in panel.summary.text() and "KID" in panel.summary.text()
    path = panel.save_json(str(tmp_path / "report.json"))
    import json
    assert json.load(open(path))["prdc"]["settings"]["k_density_coverage"] == 5


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
