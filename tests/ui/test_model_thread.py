"""The renderer owns the open model: no decode, encode, projection, likelihood or export runs it
from the GUI thread. Every module forward is watched while the tabs are driven as a person would."""

import threading

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from genstudio.core.families.family import Capability, Family
from genstudio.ui.export_dialog import GridExportDialog
from genstudio.ui.model_list import demo_checkpoints


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


@pytest.fixture
def forward_threads(monkeypatch):
    """How many module forwards ran in the GUI (main) thread and in others. Building a model as its
    file opens is not model work: spectral norm runs its parametrisation once as it registers."""
    seen = {"gui": 0, "other": 0}
    building = threading.local()
    build = Family.build

    def build_watched(family, config):
        building.now = True
        try:
            return build(family, config)
        finally:
            building.now = False

    def hook(module, args):
        if not getattr(building, "now", False):
            seen["gui" if threading.current_thread() is threading.main_thread() else "other"] += 1

    monkeypatch.setattr(Family, "build", build_watched)
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
    for name, export in (("grid.png", window.export_grid_dialog), ("strip.png", window.export_strip_dialog),
                         ("path.gif", window.export_gif_dialog)):
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
