"""A held slider's images come from a frozen graph once the decode repeats (traced_calls.py), and the
image the hand lets go on is the eager decode: the same pixels every other view of the state draws.
(A translation model's held slider: test_translation_explore.py.)"""

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

