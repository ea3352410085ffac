"""A held slider's images come from a frozen graph once the decode repeats (traced_calls.py), and the
image the hand lets go on is the eager decode: the same pixels every other view of the state draws.
A translation model's held slider decodes the translation alone; its round trip follows at rest."""

import numpy as np
import torch
from PySide6.QtCore import Qt

from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.io.open_model import open_model
from genstudio.ui.model_list import demo_checkpoints


def test_a_drag_decodes_by_the_graph_and_rests_on_the_eager_image(qtbot, window):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    explore, session = window.explore, window.session
    with qtbot.waitSignal(explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    explore.slider_mode.setCurrentIndex(explore.slider_mode.findText("Dimensions", Qt.MatchStartsWith))
    slider = explore.sliders.sliders[0]
    slider.setSliderDown(True)
    for ticks in (40, 80, 120, 160):
        with qtbot.waitSignal(explore.imageRendered, timeout=30000) as shown:
            slider.setValue(ticks)
        assert shown.args == ["drag"]
    graphs = list(window.renderer._worker.cache["traced calls"]._graphs.values())
    assert len(graphs) == 1 and isinstance(graphs[0], torch.jit.ScriptModule)
    model = open_model(gan).model
    eager = decode_numpy(model, session.z[None], session.labels(1), session.decode_options)
    dragged = explore.last_image
    assert np.abs(dragged - eager[0]).max() < 1e-5                   # the graph's image, to float rounding

    with qtbot.waitSignal(explore.imageRendered, timeout=30000) as rested:
        slider.setSliderDown(False)
    assert rested.args == ["full"] and np.array_equal(explore.last_image, eager[0])


def test_a_translation_drag_leaves_the_round_trip_to_the_rest(qtbot, window):
    demo = next(p for p in demo_checkpoints() if p.stem == "translation-mnist")
    explore = window.explore
    assert window.open_path(demo)
    qtbot.waitUntil(lambda: explore.last_translation is not None and explore.last_image_kind == "full", timeout=60000)
    rest = explore.last_translation
    assert rest.round_trip is not None and rest.cycle_error is not None
    model = open_model(demo).model
    slider = explore.sliders.sliders[0]
    slider.setSliderDown(True)
    for ticks in (40, 80, 120):
        with qtbot.waitSignal(explore.imageRendered, timeout=30000) as shown:
            slider.setValue(ticks)
        assert shown.args == ["drag"]
        held = explore.last_translation
        x = torch.from_numpy(held.input)[None]
        style = explore.current_latent().view(1, -1)
        there = model.translate(x, direction=0, style=style[:, :model.style_dim])
        assert np.abs(held.translation - there[0].numpy()).max() < 1e-5        # the translation is live
        # The round trip at rest stands in, faded towards the grey between panels; no cycle error.
        assert held.cycle_error is None and np.allclose(held.round_trip, 0.5 + 0.3 * (rest.round_trip - 0.5))
        assert "round trip when you let go" in explore.timing.text()
    with qtbot.waitSignal(explore.imageRendered, timeout=30000) as rested:
        slider.setSliderDown(False)
    assert rested.args == ["full"]
    view = explore.last_translation
    there, back = model.round_trip(torch.from_numpy(view.input)[None], direction=0,
                                   style=explore.current_latent().view(1, -1)[:, :model.style_dim])
    assert np.abs(view.round_trip - back[0].numpy()).max() < 1e-5 and view.cycle_error is not None
    assert "cycle error" in explore.timing.text()
