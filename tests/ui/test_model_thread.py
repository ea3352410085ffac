"""The renderer owns the open model: no decode, encode, projection, likelihood or export runs it
from the GUI thread, and no model is built there (opening a file, a training snapshot). Every module
forward is watched while the tabs are driven as a person would, on every family's demo. A long task
runs on a copy of its own: a Layer capture beside it sees only its own decode."""

import threading
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.latent import seeded_latents
from genstudio.ui.export_dialog import GridExportDialog
from genstudio.ui.inspect_tools.layer_tool import CHANNEL as LAYER_CHANNEL
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.task_runner import TaskRunner


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


@pytest.fixture
def forward_threads():
    """How many module forwards ran in the GUI (main) thread and in others. Building counts too: a
    model is built off the GUI thread (spectral norm runs its parametrisation once as it registers,
    which the demo GAN has, so a build in the GUI thread shows here)."""
    seen = {"gui": 0, "other": 0}

    def hook(module, args):
        seen["gui" if threading.current_thread() is threading.main_thread() else "other"] += 1

    handle = torch.nn.modules.module.register_module_forward_pre_hook(hook)
    yield seen
    handle.remove()


def open_demo(qtbot, window, name):
    window.tabs.setCurrentWidget(window.explore)        # the image is "shown" when it is painted
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(demo(name))


def test_no_model_work_in_the_gui_thread(qtbot, window, tmp_path, monkeypatch, forward_threads):
    digit = tmp_path / "digit.png"
    Image.fromarray((np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8)).save(digit)

    # GAN: slider, interpolation, neighbours, exports, a dropped image projected.
    open_demo(qtbot, window, "gan-mnist")
    explore = window.explore
    qtbot.waitUntil(lambda: explore.directions is not None, timeout=30000)
    with qtbot.waitSignal(explore.image_view.shown, timeout=10000):
        explore.sliders.sliders[0].setValue(150)
    with qtbot.waitSignal(explore.strip_view.shown, timeout=10000):
        explore.randomise_endpoints()
    explore.neighbours_check.setChecked(True)
    qtbot.waitUntil(lambda: "nearest images" in explore.neighbour_label.text(), timeout=30000)
    monkeypatch.setattr(GridExportDialog, "exec", lambda dialog: GridExportDialog.Accepted)
    exports = window.exports
    for name, export in (("grid.png", exports.export_grid_dialog), ("strip.png", exports.export_strip_dialog),
                         ("path.gif", exports.export_gif_dialog)):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, n=name, **k: (str(tmp_path / n), ""))
        with qtbot.waitSignal(window.exported, timeout=30000):
            export()
        assert (tmp_path / name).stat().st_size > 0
    projection = window.inspect.tool(Capability.IMAGE_PROJECTION)
    projection.steps.setValue(10)
    with qtbot.waitSignal(window.inspect.tasks.done, timeout=60000):
        window.drop_path(digit)
    assert projection.projection_info["steps"] == 10

    # VAE: a dropped image is encoded and decoded back (Inspect's Encode tool), its latent shown in
    # the explorer; the latent map builds and hovers.
    open_demo(qtbot, window, "vae-mnist")
    before = explore.current_latent()
    encode = window.inspect.tool(Capability.ENCODE)
    with qtbot.waitSignal(encode.view.shown, timeout=10000):
        window.drop_path(digit)
    with qtbot.waitSignal(explore.latentChanged, timeout=10000):
        encode.show_button.click()
    assert not torch.equal(before, explore.current_latent())
    with qtbot.waitSignal(window.map.tasks.finished, timeout=60000):
        window.map.build_map()
    window.tabs.setCurrentWidget(window.map)
    with qtbot.waitSignal(window.map.hover_view.shown, timeout=10000):
        window.map.hover_at(np.array([0.5, -0.5], np.float32))

    # Flow: bits/dim of the data set, a dropped image measured, a round trip, temperature samples.
    open_demo(qtbot, window, "flow-mnist")
    likelihood = window.inspect.tool(Capability.EXACT_LIKELIHOOD)
    from genstudio.core.data.bundled import load_bundled_mnist
    from genstudio.core.data.dataset import InMemoryDataset

    mnist = load_bundled_mnist()
    likelihood.dataset = InMemoryDataset("mnist", mnist.data[:300], mnist.labels[:300], mnist.label_names, "mnist")
    with qtbot.waitSignal(window.inspect.tasks.done, timeout=60000):
        likelihood.measure_dataset()
    assert likelihood.bpd.shape == (300,)
    window.drop_path(digit)
    qtbot.waitUntil(lambda: likelihood.dropped_bpd is not None, timeout=30000)
    with qtbot.waitSignal(likelihood.round_view.shown, timeout=30000):
        likelihood.round_trip(3)

    # Diagnostics on a small sample.
    window.diagnostics.samples.setValue(300)
    with qtbot.waitSignal(window.diagnostics.tasks.finished, timeout=120000):
        window.diagnostics.run(dataset=InMemoryDataset("mnist", mnist.data[:300], mnist.labels[:300],
                                                       mnist.label_names, "mnist"))
    assert window.diagnostics.report is not None

    assert forward_threads["other"] > 100
    assert forward_threads["gui"] == 0, f"{forward_threads['gui']} module calls ran in the GUI thread"


def show_layer_page(qtbot, window):
    layer = window.inspect.tool(None)
    window.tabs.setCurrentWidget(window.inspect)
    with qtbot.waitSignal(layer.tiles_view.shown, timeout=30000):
        window.inspect.pages.setCurrentWidget(layer)
    return layer


def test_no_model_work_in_the_gui_thread_diffusion_pixelcnn_stylegan(qtbot, window, forward_threads):
    # Diffusion: the preview and the full decode, a sampler setting, the Layer page.
    window.tabs.setCurrentWidget(window.explore)
    explore = window.explore
    with qtbot.waitSignal(explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "full"):
        assert window.open_path(demo("diffusion-mnist"))
    with qtbot.waitSignal(explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "full"):
        explore.session.set_decode_option("steps", 4)
    layer = show_layer_page(qtbot, window)
    assert layer.result.names and np.array_equal(layer.result.image, explore.last_image)

    # PixelCNN: drawn row by row in the render thread.
    window.tabs.setCurrentWidget(window.explore)
    with qtbot.waitSignal(explore.imageRendered, timeout=60000):
        assert window.open_path(demo("pixelcnn-mnist"))
    assert explore.last_image is not None

    # StyleGAN: a W+ slider on the coarse layers, style mixing, the Layer page.
    open_demo(qtbot, window, "stylegan-mnist")
    explore.slider_mode.setCurrentIndex(explore.slider_mode.findText("Principal directions in W+, coarse layers"))
    qtbot.waitUntil(lambda: explore.session.edit_directions is not None, timeout=60000)
    with qtbot.waitSignal(explore.image_view.shown, timeout=10000):
        explore.sliders.sliders[0].setValue(150)
    with qtbot.waitSignal(explore.image_view.shown, timeout=10000):
        explore.session.set_decode_option("mix_layers", 1)
    layer = show_layer_page(qtbot, window)
    assert np.array_equal(layer.result.image, explore.last_image)

    assert forward_threads["gui"] == 0, f"{forward_threads['gui']} module calls ran in the GUI thread"

    # Following a training run: the snapshot's model is built off the GUI thread (the demo GAN's
    # spectral norm runs as it is built; the test's own load of the snapshot runs here, before).
    gan = load_checkpoint(demo("gan-mnist"))
    window.live_snapshot = {"card": gan.card, "state": gan.model.state_dict(), "name": "gan run"}
    window.tabs.setCurrentWidget(window.explore)
    seen = dict(forward_threads)
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        window.follow_training()
    assert window.opened.path.name.startswith("gan run") and forward_threads["other"] > seen["other"]
    assert forward_threads["gui"] == seen["gui"], "the snapshot's model was built in the GUI thread"


@dataclass
class DecodeUntilStopped:
    """A long task that decodes seeded batches of 4 until it is stopped: model work in a task
    thread all the while the captures run. Its partial results count the batches."""

    options: dict

    def run(self, model, state):
        batches = 0
        while not state.is_interruption_requested():
            decode_numpy(model, seeded_latents(4, tuple(model.latent_shape), batches), None, self.options)   # (4, C, H, W)
            batches += 1
            state.set_partial_result(batches)
        return batches


@pytest.mark.parametrize("name, options", [("gan-mnist", {}), ("diffusion-mnist", {"steps": 2})])
def test_layer_captures_beside_a_task_see_only_their_own_decode(qtbot, window, name, options):
    """50 Layer captures while a task decodes on the same open model: each equals the capture made
    with no task running (a task on the explorer's own module ran into the capture's hooks: 1-3 of
    10 captures on the diffusion demo showed a task's activation). The first layer is captured:
    a forward of it by the task at any time after the capture's own last run would be kept."""
    window.tabs.setCurrentWidget(window.explore)
    with qtbot.waitSignal(window.explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "full"):
        assert window.open_path(demo(name))
    for key, value in options.items():
        window.session.set_decode_option(key, value)
    layer = show_layer_page(qtbot, window)
    layer.layers.setCurrentIndex(0)

    def capture():
        with qtbot.waitSignal(window.renderer.done, timeout=30000,
                              check_params_cb=lambda channel, result, ms: channel == LAYER_CHANNEL) as done:
            layer.refresh()
        result = done.args[1]
        return result.names, result.chosen, result.tiles, result.image

    alone = capture()
    runner = TaskRunner()
    batches = []
    runner.partial.connect(batches.append)
    window.renderer.start_task(runner, DecodeUntilStopped(window.session.decode_options_with_edit()))
    qtbot.waitUntil(lambda: len(batches) > 0, timeout=30000)       # the task is decoding
    before = batches[-1]
    differ = 0
    for _ in range(50):
        names, chosen, tiles, image = capture()
        differ += not (names == alone[0] and chosen == alone[1] and np.array_equal(tiles, alone[2])
                       and np.array_equal(image, alone[3]))
    ran_beside = batches[-1] - before
    with qtbot.waitSignal(runner.finished, timeout=30000):
        runner.cancel()
    runner.shutdown()
    assert ran_beside > 0, "the task made no decodes while the captures ran"
    assert differ == 0, f"{differ} of 50 captures differ from the capture made alone"
