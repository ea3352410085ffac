"""The Inspect tab: a flow's bits/dim (data set histogram, dropped image, round trip) and a GAN's
image projection landing in the explorer."""

import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from genstudio.core.explore.likelihood import image_bits_per_dim
from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import load_checkpoint, save_checkpoint
from genstudio.core.training.engine import TrainConfig, Trainer
from genstudio.ui.model_list import demo_checkpoints


def small_flow_checkpoint(mnist, tmp_path):
    config = TrainConfig(family="flow", preset="realnvp", steps=5, sample_every_s=0, device="cpu",
                         model={"num_scales": 2, "couplings_per_scale": 2, "hidden_channels": 8}, batch_size=32)
    trainer = Trainer(config, dataset=mnist)
    list(trainer.run())
    return save_checkpoint(tmp_path / "flow.safetensors", trainer.model, trainer.card())


def test_flow_bits_per_dim_of_data_and_dropped_image(qtbot, window, mnist, tmp_path):
    path = small_flow_checkpoint(mnist, tmp_path)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(path)
    inspect = window.inspect
    panel = inspect.tool(Capability.EXACT_LIKELIHOOD)
    # A flow also encodes: the Encode page follows, the likelihood page comes first and takes dropped images.
    assert inspect.active_tools() == [panel, inspect.tool(Capability.ENCODE), inspect.tool(None)]
    assert inspect.pages.currentWidget() is panel
    small = type(mnist)("mnist", mnist.data[:600], mnist.labels[:600], mnist.label_names)
    panel.dataset = small
    with qtbot.waitSignal(inspect.tasks.finished, timeout=60000):
        panel.measure_dataset()
    assert panel.bpd.shape == (600,) and np.isfinite(panel.bpd).all()
    heights = panel.bars.opts["height"]
    assert int(np.sum(heights)) == 600
    worst = panel.shown_indices[0]
    assert panel.bpd[worst] == panel.bpd.max()          # the tail is shown, worst first
    assert f"mean {panel.bpd.mean():.4f}" in inspect.message.text()

    digit = tmp_path / "digit.png"
    Image.fromarray(mnist.data[7, 0].numpy()).save(digit)
    window.drop_path(digit)
    assert window.tabs.currentWidget() is inspect
    qtbot.waitUntil(lambda: panel.dropped_bpd is not None, timeout=30000)
    shown = panel.dropped_bpd
    assert f"{shown:.4f} bits/dim" in inspect.message.text()
    assert abs(shown - image_bits_per_dim(load_checkpoint(path).model.eval(), digit)) < 1e-5
    assert abs(shown - float(panel.bpd[7])) < 1e-3          # the same image measured in the data set
    cli = subprocess.run([sys.executable, "-m", "genstudio", "info", str(path), "--image", str(digit)],
                         capture_output=True, text=True)
    line = [l for l in cli.stdout.splitlines() if l.startswith("bits/dim digit.png")][0]
    assert abs(float(line.split()[-1]) - shown) < 1e-5

    with qtbot.waitSignal(panel.round_view.shown, timeout=10000):
        panel.round_trip(3)
    error = float(panel.round_label.text().split("= ")[1].split()[0])
    assert error < 1e-3


def test_gan_projection_lands_in_the_explorer(qtbot, window, mnist):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    panel = window.inspect.tool(Capability.IMAGE_PROJECTION)
    assert window.inspect.active_tools() == [panel, window.inspect.tool(None)]     # and the layer view
    panel.steps.setValue(60)
    panel.restarts.setValue(4)
    with qtbot.waitSignal(panel.pinLatent, timeout=60000) as pinned:
        panel.project(index=5)
    info = panel.projection_info
    assert info["final_error"] < info["start_error"]
    assert torch.allclose(window.explore.current_latent(), pinned.args[0])


def test_layer_view_follows_the_explorer(qtbot, window):
    """Inspect -> Layers: the explorer's image beside the tiled channels of a layer; another layer
    and another latent redraw it."""
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    inspect = window.inspect
    tool = inspect.tool(None)
    window.tabs.setCurrentWidget(inspect)
    with qtbot.waitSignal(tool.tiles_view.shown, timeout=30000):
        inspect.pages.setCurrentWidget(tool)
    names = [tool.layers.itemData(i) for i in range(tool.layers.count())]
    assert len(names) >= 3 and tool.result.shapes[tool.result.chosen][0] > 3       # opens on a feature layer
    assert np.allclose(tool.result.image, window.explore.last_image, atol=1e-6)
    first = tool.result.image
    with qtbot.waitSignal(tool.tiles_view.shown, timeout=30000):
        tool.layers.setCurrentIndex(1)
        tool.layers.activated.emit(1)
    assert tool.result.chosen == names[1] and names[1] in tool.caption.text()
    with qtbot.waitSignal(tool.tiles_view.shown, timeout=30000):
        window.explore.session.set_seed(window.explore.session.seed + 1)
    assert tool.result.chosen == names[1] and not np.allclose(tool.result.image, first)
