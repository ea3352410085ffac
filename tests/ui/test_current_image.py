"""One explore state, one image: for random explorer states (latent, class, truncation, style mixing,
W+ edits) every panel that shows "the current image" shows the explorer's pixels: the nearest
neighbours' query tile, the Layer view's input, the image exported as shown, and the history
strip's thumbnail. (The neighbours and the Layer view once decoded without the W edit.)"""

import random

import numpy as np
import pytest
from PIL import Image

from genstudio.ui.inspect_tools.layer_tool import CHANNEL as LAYER_CHANNEL
from genstudio.ui.model_list import demo_checkpoints

STATES = 12
W_MODES = ("coarse", "middle", "fine")


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def rendered(qtbot, window, channel, ask):
    """The result of the request `ask()` makes on `channel` (the newest of its channel)."""
    with qtbot.waitSignal(window.renderer.done, timeout=30000,
                          check_params_cb=lambda c, result, ms: c == channel) as done:
        ask()
    return done.args[1]


def random_gan_state(rng, window):
    session = window.session
    session.set_seed(rng.randrange(10_000))
    session.set_label(rng.randrange(session.num_classes))
    session.set_decode_option("truncation", rng.choice([0.0, round(rng.uniform(0.3, 2.0), 2)]))
    if session.directions is not None:
        session.move_direction(rng.randrange(len(session.directions)), rng.uniform(-3, 3))


def random_stylegan_state(rng, window, qtbot):
    session, explore = window.session, window.explore
    layers = rng.choice(W_MODES)
    explore.slider_mode.setCurrentIndex(explore.slider_mode.findText(f"Principal directions in W+, {layers} layers"))
    qtbot.waitUntil(lambda: session.edit_group == layers and session.edit_directions is not None, timeout=30000)
    session.set_seed(rng.randrange(10_000))
    session.set_decode_option("truncation_psi", round(rng.uniform(0.3, 1.2), 2))
    session.set_decode_option("truncation_cutoff", rng.choice([0, 2, 4]))
    session.set_decode_option("mix_layers", rng.randrange(4))
    session.set_decode_option("mix_seed", rng.randrange(1000))
    for index in rng.sample(range(len(session.edit_alphas)), 2):
        session.move_edit(index, rng.uniform(-4, 4))


@pytest.mark.parametrize("name", ["stylegan-mnist", "gan-mnist"])
def test_every_view_of_the_current_image_shows_the_explorers_pixels(qtbot, window, tmp_path, name):
    explore, session = window.explore, window.session
    window.tabs.setCurrentWidget(explore)
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        assert window.open_path(demo(name))
    assert name == "stylegan-mnist" or session.num_classes == 10          # the demo GAN is class-conditional
    explore.neighbours_check.setChecked(True)
    layer = window.inspect.tool(None)
    rng = random.Random(f"{name} states")
    for state in range(STATES):
        if name == "stylegan-mnist":
            random_stylegan_state(rng, window, qtbot)
        else:
            random_gan_state(rng, window)
        # Everything the state's events asked for is superseded by this full decode (one per channel).
        with qtbot.waitSignal(explore.imageRendered, timeout=30000, check_params_cb=lambda kind: kind == "full"):
            explore.render(full=True)
        shown = explore.last_image
        what = f"state {state}: {session.to_record().get('decode_options')}"

        neighbours = rendered(qtbot, window, "neighbours", explore.render_neighbours)
        assert np.array_equal(neighbours.image, shown), f"the neighbours' query differs, {what}"
        capture = rendered(qtbot, window, LAYER_CHANNEL, layer.refresh)
        assert np.array_equal(capture.image, shown), f"the Layer view's input differs, {what}"
        written = window.exports.export_shown(tmp_path / f"{name}-{state}.png")
        pixels = np.asarray(Image.open(written).convert("L"), dtype=np.int32)
        assert np.array_equal(pixels, (np.clip(shown[0], 0, 1) * 255 + 0.5).astype(np.int32)), f"export, {what}"
        history = window.history.history
        assert np.array_equal(history.entries[history.index].thumbnail, shown), f"history thumbnail, {what}"
