"""Training from the Train panel in a QThread: live curves and samples, pause, resume, stop, close."""

import numpy as np
import torch

from genstudio.core.io.checkpoints import load_checkpoint


def configure(panel, tmp_path, family="gan", data="mnist", steps=100_000, preset=None):
    panel.family.setCurrentIndex(panel.family.findData(family))
    panel.data.setEditText(data)
    if preset:
        panel.preset.setCurrentIndex(panel.preset.findText(preset))
    panel.steps.setValue(steps)
    panel.device.setCurrentText("cpu")
    panel.out_dir.setText(str(tmp_path / "run"))


def test_train_live_pause_resume_stop(qtbot, window, tmp_path):
    panel = window.train
    configure(panel, tmp_path, "gan", preset="mlp")
    panel.start_button.click()
    assert panel.running and not panel.start_button.isEnabled()
    assert not panel.browse_data.isEnabled() and not panel.hyper_boxes["lr_g"].isEnabled()   # no edits mid-run
    # Live plot: D and G loss curves get points; the sample grid is refreshed from fixed latents.
    qtbot.waitUntil(lambda: panel.plot.point_count("d_loss") >= 5 and panel.plot.point_count("g_loss") >= 5,
                    timeout=60000)
    assert panel.plot.point_count("d_real") >= 5           # D(x), D(G(z)) on the second plot
    qtbot.waitUntil(lambda: panel.sample_updates >= 2, timeout=60000)
    first, seen = panel.sample_view.image(), panel.sample_updates
    qtbot.waitUntil(lambda: panel.sample_updates > seen, timeout=60000)   # the next refresh, however slow the steps
    assert panel.sample_view.image() != first               # the grid changed as G learned
    assert "steps/s" in panel.progress_label.text() and "ETA" in panel.progress_label.text()

    # The pause is awaited as the person sees it, by the button the panel's slot relabels: never by the
    # worker's own signal (conftest's signals_awaited_from_the_gui_thread says why).
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Resume", timeout=10000)
    paused_at = panel.worker.trainer.step
    qtbot.wait(300)                                       # nothing moves while paused
    assert panel.worker.trainer.step == paused_at
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Pause", timeout=10000)
    qtbot.waitUntil(lambda: panel.worker.trainer.step > paused_at + 5, timeout=30000)

    with qtbot.waitSignal(panel.trainingFinished, timeout=10000) as finished:
        panel.stop_button.click()
    report = finished.args[0]
    assert report.kind == "stopped"
    assert not panel.running and panel.start_button.isEnabled()
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.safetensors")
    assert saved.step == report.step > paused_at


def test_explore_while_training_uses_a_snapshot(qtbot, window, tmp_path):
    panel = window.train
    configure(panel, tmp_path, "vae", preset="map")
    with qtbot.waitSignal(panel.snapshotReady, timeout=60000):
        panel.start()
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.follow_training()
    first_step = window.opened.card.step
    qtbot.waitUntil(lambda: window.opened.card.step > first_step, timeout=30000)  # refreshed
    # The explorer decodes from a copy of the weights, never the live module: with training paused,
    # NaN in every live weight leaves what the explorer decodes untouched.
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.pause_button.text() == "Resume", timeout=10000)   # (not the worker's signal)
    with torch.no_grad():
        for parameter in panel.worker.trainer.model.parameters():
            parameter.fill_(float("nan"))
    with qtbot.waitSignal(window.explore.imageRendered, timeout=30000):
        window.explore.render(full=True)
    assert window.explore.last_image.shape == (1, 28, 28) and np.isfinite(window.explore.last_image).all()
    panel.stop(wait=True)
    assert not panel.running


def test_toy_data_shows_a_scatter(qtbot, window, tmp_path):
    panel = window.train
    configure(panel, tmp_path, "gan", data="ring8", steps=300)
    assert panel.preset.currentText() == "toy"              # point presets for point data
    with qtbot.waitSignal(panel.trainingFinished, timeout=60000):
        panel.start()
    assert panel.samples_stack.currentIndex() == 1
    assert len(panel.fake_points.xData) == 64 and len(panel.real_points.xData) > 0
    assert len(panel.mode_centres.xData) == 8                # ring-8's mode centres marked
    surface = panel.surface.image                            # D's verdict over the plane (GAN Lab)
    assert surface.shape == (64, 64) and 0 <= surface.min() <= surface.max() <= 1


def test_bad_data_folder_is_reported_and_the_app_keeps_running(qtbot, window, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    panel = window.train
    configure(panel, tmp_path, "gan", data=f"folder:{empty}")
    with qtbot.waitSignal(panel.trainingFinished, timeout=30000):
        panel.start()
    assert not panel.error_label.isHidden() and str(empty) in panel.error_label.text()
    assert not panel.running and panel.start_button.isEnabled()


def test_nan_during_training_is_reported(qtbot, window, tmp_path):
    import torch

    from genstudio.core.data.dataset import InMemoryDataset

    # Points that hold NaN make the first losses NaN, as a blown-up run's would.
    poisoned = InMemoryDataset("poisoned", torch.full((512, 2), float("nan")))
    panel = window.train
    configure(panel, tmp_path, "gan", data="ring8", steps=50)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60000) as finished:
        panel.start(panel.config(), dataset=poisoned)
    assert finished.args[0].kind == "diverged"
    assert "NaN" in panel.error_label.text() and not panel.error_label.isHidden()
    assert not panel.running and panel.start_button.isEnabled()


def test_unavailable_devices_are_disabled_with_a_reason(window):
    import torch

    panel = window.train
    model = panel.device.model()
    cuda = model.item(panel.device.findText("cuda"))
    assert cuda.isEnabled() == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert cuda.toolTip().startswith("unavailable:")


def test_closing_mid_training_saves_and_joins(qtbot, window, tmp_path, qtlog):
    panel = window.train
    configure(panel, tmp_path, "gan", preset="mlp")
    panel.start()
    qtbot.waitUntil(lambda: panel.plot.point_count("d_loss") >= 2, timeout=60000)
    job = panel.job
    window.close()
    assert not panel.running and not job.running
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").step > 0
    assert not [r for r in qtlog.records if "Destroyed while thread" in r.message]
