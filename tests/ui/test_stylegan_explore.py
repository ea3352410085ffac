"""A StyleGAN2-ADA snapshot in the app, through the real widgets: it opens from its .pkl, the
Sampler group's truncation slider (psi 0: every seed gives the mean image), the layer cut-off and
the noise drop-down change the image as they should, and the Layer page lists the synthesis blocks;
a generator too slow for the hand previews at an eighth of its resolution while a slider moves."""

import numpy as np
import pytest

import torch

from genstudio.core.families.stylegan.generator import Generator
from genstudio.core.io.open_model import open_model
from genstudio.ui.model_list import demo_checkpoints
from stylegan_snapshots import small_generator, write_snapshot


@pytest.fixture
def snapshot(tmp_path):
    path = tmp_path / "network-snapshot-000400.pkl"
    write_snapshot(path, small_generator(resolution=16, channels=3))
    return path


def shown_after(qtbot, explore, change) -> np.ndarray:
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        change()
    return explore.last_image.copy()


def test_truncation_cutoff_and_noise_controls(qtbot, window, snapshot):
    explore = window.explore
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        assert window.open_path(snapshot)
    boxes = explore.option_boxes
    assert set(boxes) == {"truncation_psi", "truncation_cutoff", "noise", "mix_layers", "mix_seed", "detail"}
    assert boxes["truncation_psi"].slider is not None and boxes["noise"].combo.count() == 3
    assert [boxes["detail"].combo.itemText(i) for i in range(5)] == ["1/16", "1/8", "1/4", "1/2", "full"]
    free = explore.last_image.copy()
    mean = shown_after(qtbot, explore, lambda: boxes["truncation_psi"].slider.setValue(0))
    # Fast (the first decode, with torch's warm-up, may not be): no preview, no resolution in the caption.
    assert explore.timing.text().startswith("decode ")
    assert explore.session.decode_options["truncation_psi"] == 0.0 and not np.allclose(mean, free)
    other_seed = shown_after(qtbot, explore, lambda: explore.session.set_seed(explore.session.seed + 7))
    assert np.allclose(other_seed, mean, atol=1e-5)                      # psi 0: the mean image whatever the seed
    coarse_only = shown_after(qtbot, explore, lambda: boxes["truncation_cutoff"].setValue(2))
    assert not np.allclose(coarse_only, mean, atol=1e-3)                 # the fine layers keep the seed's styles
    quiet = shown_after(qtbot, explore, lambda: boxes["noise"].combo.setCurrentIndex(2))
    assert explore.session.decode_options["noise"] == 2 and not np.allclose(quiet, coarse_only, atol=1e-4)
    boxes["truncation_psi"].setValue(1.0)
    own = shown_after(qtbot, explore, lambda: boxes["truncation_cutoff"].setValue(0))
    mixed = shown_after(qtbot, explore, lambda: boxes["mix_layers"].combo.setCurrentIndex(1))   # coarse from seed 1
    assert not np.allclose(mixed, own, atol=1e-4)
    record = explore.session.to_record()
    assert record["decode_options"]["mix_layers"] == 1 and record["decode_options"]["mix_seed"] == 1

    inspect = window.inspect
    layer = inspect.tool(None)
    window.tabs.setCurrentWidget(inspect)
    with qtbot.waitSignal(layer.tiles_view.shown, timeout=30000):
        inspect.pages.setCurrentWidget(layer)
    names = [layer.layers.itemData(i) for i in range(layer.layers.count())]
    assert "generator_ema.synthesis.b8.conv0" in names and "generator_ema.synthesis.b16.torgb" in names


def test_style_mixing_grid_export(qtbot, window, snapshot, tmp_path):
    from PIL import Image

    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(snapshot)
    assert window.style_mixing_action.isEnabled()
    out = tmp_path / "mixing.png"
    with qtbot.waitSignal(window.exported, timeout=30000) as written:
        window.exports.export_style_mixing(out, {"seeds_a": "1,2", "seeds_b": "3,4,5", "layers": "middle", "scale": 1})
    assert written.args == [str(out)] and Image.open(out).size == (4 * 16 + 5 * 2, 3 * 16 + 4 * 2)
    import json
    beside = json.loads(out.with_suffix(".json").read_text())               # what redraws the grid
    assert (beside["seeds_a"], beside["seeds_b"], beside["layers"]) == ([1, 2], [3, 4, 5], "middle")
    window.exports.export_style_mixing(out, {"seeds_a": "1,x", "seeds_b": "3", "layers": "coarse", "scale": 1})
    assert "style mixing: seeds are whole numbers" in window.statusBar().currentMessage()
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    assert not window.style_mixing_action.isEnabled()


def test_principal_directions_in_w_on_a_layer_range(qtbot, window, snapshot, tmp_path):
    """Sliders along principal directions of W edit only the chosen layers' w's; the edit is in the
    latent record, and `genstudio sample --latent` draws the same image from it."""
    from genstudio.cli import main

    explore = window.explore
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        assert window.open_path(snapshot)
    before = explore.last_image.copy()
    modes = [explore.slider_mode.itemText(i) for i in range(explore.slider_mode.count())]
    coarse = modes.index("Principal directions in W+, coarse layers")
    with qtbot.waitSignal(explore.session.events.directions, timeout=30000):
        explore.slider_mode.setCurrentIndex(coarse)
    qtbot.waitUntil(lambda: explore.session.edit_directions is not None, timeout=30000)
    assert explore.session.edit_group == "coarse" and len(explore.sliders.sliders) == explore.k_spin.value()
    explore.session.move_edit(0, 3.0)
    # The edited image, not merely the next one shown: a decode queued before the move (the slider
    # mode's own render) may be shown first on a loaded machine.
    qtbot.waitUntil(lambda: not np.allclose(explore.last_image, before, atol=1e-4), timeout=30000)
    edited = explore.last_image.copy()
    record = explore.session.to_record()
    assert record["style_edit"]["layers"] == "coarse" and record["style_edit"]["alphas"][0] == 3.0
    path = tmp_path / "latent.json"
    explore.session.save_record(path)
    out = tmp_path / "one.png"
    assert main(["sample", str(snapshot), "--latent", str(path), "--out", str(out), "--padding", "0"]) == 0
    from PIL import Image

    drawn = np.asarray(Image.open(out), dtype=np.float32).transpose(2, 0, 1) / 255
    assert np.abs(drawn - edited).max() <= 1 / 255 + 1e-6                  # the same image, to 8-bit rounding
    explore.session.reset()
    # The seed's own image again (waited for, not the next paint: the edited image's paint may be
    # pending when reset is called).
    qtbot.waitUntil(lambda: np.allclose(explore.last_image, before, atol=1e-5), timeout=30000)
    assert not any(explore.session.edit_alphas)


def test_a_slow_generator_previews_at_an_eighth_of_its_resolution_while_the_slider_moves(qtbot, window, tmp_path):
    """256 px with 64 maps at every resolution: about 6 GMAC a decode, far over the 40 ms budget on a
    CPU; the preview stops at the 32 px block (its toRGB sum, enlarged), the full image follows."""
    torch.manual_seed(0)
    path = tmp_path / "network-snapshot-000100.pkl"
    write_snapshot(path, Generator(32, 0, 32, 256, 3, {"num_layers": 2},
                                   {"channel_base": 1 << 14, "channel_max": 64, "conv_clamp": 256}).eval())
    reference = open_model(path).model
    explore = window.explore
    with qtbot.waitSignal(explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "full"):
        assert window.open_path(path)
    assert explore.timing.text().startswith("full resolution \u00b7 decode ")
    explore.slider_mode.setCurrentIndex(explore.slider_mode.count() - 1)     # "Dimensions 1-32": no directions to wait for
    slider = explore.sliders.sliders[0]
    with qtbot.waitSignal(explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "preview"):
        slider.setValue(slider.value() + 120)
    z = explore.session.current_image().latent
    assert explore.timing.text().startswith("preview: 1/8 of full resolution")
    assert np.allclose(explore.last_image, reference.decode(z, detail=1)[0].numpy(), atol=1e-5)
    with qtbot.waitSignal(explore.imageRendered, timeout=60000, check_params_cb=lambda kind: kind == "full"):
        pass                                                  # the hand rests: the full decode follows
    assert np.allclose(explore.last_image, reference.decode(z)[0].numpy(), atol=1e-5)
    assert not np.allclose(reference.decode(z, detail=1), reference.decode(z), atol=1e-3)
