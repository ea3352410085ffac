"""A translation model (Capability.TRANSLATION) in the app, through the real widgets: the explorer's
input | translation | round trip of a data image, a dropped file and the output taken back as input,
each equal to the model's own translate / round_trip; the Inspect tab's grid (and its PNG + JSON
export), the cycle-error histogram whose worst bar holds the worst image, the layer view; a held
slider's translation alone, its round trip following at rest; and a switch to another model and back
that leaves nothing stale."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from genstudio.core.data.spec import load_dataset
from genstudio.core.io.open_model import open_model
from genstudio.ui.inspect_tools.cycle_error_tool import CycleErrorTool
from genstudio.ui.inspect_tools.translation_grid_tool import TranslationGridTool
from genstudio.ui.model_list import demo_checkpoints

# Two small unpaired domains: 40 digits as they are, 40 others with thick strokes.
DOMAINS = ("mnist[0:40]", "thick:mnist[40:80]")
SPEC = f"A={DOMAINS[0]},B={DOMAINS[1]}"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny multimodal CycleGAN (8 maps, one residual block, style codes of 8) trained one real step."""
    from genstudio.core.training.engine import TrainConfig, Trainer

    config = TrainConfig(family="translation", preset="multimodal-digits", data=SPEC, steps=1, batch_size=8,
                         sample_every_s=0, n_samples=1, eval_batch=4, device="cpu", seed=3,
                         out_dir=str(tmp_path_factory.mktemp("translation")),
                         model={"ngf": 8, "n_blocks": 1, "ndf": 8})
    return Path(list(Trainer(config, dataset=load_dataset(SPEC)).run())[-1].path)


@pytest.fixture(scope="module")
def model(checkpoint):
    """The same checkpoint opened apart from the app: the reference the widgets are compared with."""
    return open_model(checkpoint).model


@pytest.fixture(scope="module")
def domains():
    """Each domain's images (N, 1, 28, 28) in [0, 1]."""
    return [load_dataset(spec).data.float() / 255 for spec in DOMAINS]


def open_and_wait(qtbot, window, path):
    """Open `path` and wait for its first image. Not on the image view's `shown`: a tab brought to the
    front paints the image it got while hidden, and says `shown` for that one while the model opens."""
    assert window.open_path(path)          # the model is open and the panels reset when it returns
    qtbot.waitUntil(lambda: window.explore.last_image is not None, timeout=60000)


def new_result(qtbot, get, action, timeout=30000):
    """Do `action` and wait until `get()` is a result made after it (the renderer delivers only a
    channel's newest request, so the first new one is the action's)."""
    before = get()
    action()
    qtbot.waitUntil(lambda: get() is not None and get() is not before, timeout=timeout)
    return get()


def shown_after(qtbot, explore, action):
    return new_result(qtbot, lambda: explore.last_translation, action)


def style_of(explore) -> torch.Tensor:
    return explore.current_latent().view(1, -1)


def assert_shows(view, model, x, direction, style):
    """The explorer's view is the model's own round trip of x (1, C, H, W) with that style code."""
    there, back = model.round_trip(x, direction=direction, style=style)
    assert np.allclose(view.input, x[0].numpy(), atol=1e-6)
    assert np.allclose(view.translation, there[0].numpy(), atol=1e-5)
    assert np.allclose(view.round_trip, back[0].numpy(), atol=1e-5)
    assert view.cycle_error == pytest.approx(float((x - back).abs().mean()), abs=1e-5)


def test_explorer_translates_a_data_image_both_ways_and_takes_its_output_back(qtbot, window, checkpoint, model,
                                                                             domains):
    open_and_wait(qtbot, window, checkpoint)
    explore = window.explore
    assert explore.translation_input.isVisible() and not explore.neighbours_box.isVisible()
    assert explore.translation_input.index.maximum() == len(domains[0]) - 1     # A's 40 images
    view = shown_after(qtbot, explore, lambda: explore.translation_input.index.setValue(5))
    assert view.name == "A: mnist[0:40] #5" and view.direction == 0
    assert_shows(view, model, domains[0][5:6], 0, style_of(explore))
    assert f"cycle error {view.cycle_error:.4f}" in explore.timing.text()
    c, h, w = view.input.shape                          # the picture: input | translation | round trip
    assert explore.last_image.shape == (c, h + 4, 3 * (w + 2) + 2)
    assert np.allclose(explore.last_image[:, 2:2 + h, w + 4:2 * w + 4], view.translation)

    # B -> A translates B's image 5 with the other generator.
    view = shown_after(qtbot, explore, lambda: explore.option_boxes["direction"].setValue(1))
    assert view.direction == 1 and view.name.startswith("B: thick:mnist[40:80] #")
    assert_shows(view, model, domains[1][5:6], 1, style_of(explore))

    # Another style code (multimodal) changes the translation of the same input.
    before = view.translation
    view = shown_after(qtbot, explore, explore.randomise)
    assert_shows(view, model, domains[1][5:6], 1, style_of(explore))
    assert not np.allclose(before, view.translation)

    # The output as input: A's generator translates the B -> A output, on 8-bit levels (the latent
    # record keeps the input as a PNG, so it reproduces exactly).
    output = (torch.from_numpy(view.translation)[None] * 255).round() / 255
    view = shown_after(qtbot, explore, explore.translation_input.use_output.click)
    assert view.direction == 0 and explore.session.decode_options["direction"] == 0
    assert view.name.startswith("the B -> A output of")
    assert_shows(view, model, output, 0, style_of(explore))

    # The A <-> B strip: the input translated with each frame's style code.
    strip = new_result(qtbot, lambda: explore.last_strip, explore.randomise_endpoints)
    frames = explore.session.path_latents()
    expected = model.translate(output.expand(len(frames), -1, -1, -1), direction=0, style=frames)
    assert np.allclose(strip, expected.numpy(), atol=1e-5)


def test_a_held_slider_translates_alone_and_the_round_trip_follows_at_rest(qtbot, window, checkpoint, model, domains):
    open_and_wait(qtbot, window, checkpoint)
    explore = window.explore
    qtbot.waitUntil(lambda: explore.last_image_kind == "full", timeout=60000)
    rest = explore.last_translation
    x = domains[0][:1]                                  # A's image #0, the input box's first choice
    assert_shows(rest, model, x, 0, style_of(explore))
    slider = explore.sliders.sliders[0]
    slider.setSliderDown(True)
    for ticks in (40, 80, 120):
        with qtbot.waitSignal(explore.imageRendered, timeout=30000) as shown:
            slider.setValue(ticks)
        assert shown.args == ["drag"]
        held = explore.last_translation
        there = model.translate(x, direction=0, style=style_of(explore))
        assert np.abs(held.translation - there[0].numpy()).max() < 1e-5        # the translation is live
        # The round trip at rest stands in, faded towards the grey between panels; no cycle error.
        assert held.cycle_error is None and np.allclose(held.round_trip, 0.5 + 0.3 * (rest.round_trip - 0.5))
        assert "round trip when you let go" in explore.timing.text()
    with qtbot.waitSignal(explore.imageRendered, timeout=30000) as rested:
        slider.setSliderDown(False)
    assert rested.args == ["full"]
    assert_shows(explore.last_translation, model, x, 0, style_of(explore))
    assert "cycle error" in explore.timing.text()


def test_a_dropped_image_file_is_translated(qtbot, window, checkpoint, model, tmp_path):
    open_and_wait(qtbot, window, checkpoint)
    explore = window.explore
    digit = (np.arange(56 * 56).reshape(56, 56) % 251).astype(np.uint8)      # 56 px: read at the model's 28
    path = tmp_path / "stripes.png"
    Image.fromarray(digit).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    view = shown_after(qtbot, explore, lambda: explore.dropEvent(drop))
    assert drop.isAccepted() and view.name == "stripes.png"
    # Read as the public CycleGAN code reads it: RGB, then grey, then a bicubic resize (as genstudio translate does).
    x = torch.tensor(np.asarray(Image.fromarray(digit).convert("RGB").convert("L").resize((28, 28), Image.BICUBIC)))
    x = x.float()[None, None] / 255
    assert_shows(view, model, x, 0, style_of(explore))
    # Dropped on another tab, the window hands it to the Inspect tab's cycle-error page.
    window.tabs.setCurrentWidget(window.inspect)
    cycle = window.inspect.tool_of(CycleErrorTool)
    picked = new_result(qtbot, lambda: cycle.picked, lambda: window.drop_path(path))
    assert window.inspect.pages.currentWidget() is cycle and picked.name == "stripes.png"
    assert_shows(picked, model, x, 0, style_of(explore))
    # A model file dropped on the explorer is not taken here: the window opens it.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(checkpoint))])
    assert explore._dropped_image(QDropEvent(QPointF(1, 1), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)) is None


def test_inspect_grid_equals_the_models_translations_and_exports_png_and_json(qtbot, window, checkpoint, model,
                                                                            domains, tmp_path):
    open_and_wait(qtbot, window, checkpoint)
    inspect = window.inspect
    tool = inspect.tool_of(TranslationGridTool)
    assert tool in inspect.active_tools() and inspect.tool_of(CycleErrorTool) in inspect.active_tools()
    window.tabs.setCurrentWidget(inspect)
    new_result(qtbot, lambda: tool.result, lambda: inspect.pages.setCurrentWidget(tool))
    result = new_result(qtbot, lambda: tool.result, lambda: tool.first.setValue(3))
    assert result.indices == list(range(3, 11))
    x = domains[0][3:11]
    there, back = model.round_trip(x, direction=0, style=style_of(window.explore).expand(8, -1))
    assert np.allclose(result.inputs, x.numpy()) and np.allclose(result.translations, there.numpy(), atol=1e-5)
    assert np.allclose(result.round_trips, back.numpy(), atol=1e-5)

    written = tool.export(tmp_path / "grid.png")
    png = np.asarray(Image.open(written).convert("L"), dtype=np.float32) / 255
    assert png.shape == (3 * 30 + 2, 8 * 30 + 2)                 # 3 rows, 8 columns of 28 px, 2 px apart
    for row, images in enumerate((x, there, back)):
        cell = png[2 + 30 * row:30 * (row + 1), 2 + 30 * 4:30 * 5]     # column 4: image 7
        assert np.abs(cell - images[4, 0].numpy()).max() <= 1 / 255 + 1e-6
    record = json.loads(written.with_suffix(".json").read_text())
    assert record["kind"] == "translation grid" and record["direction"] == "A -> B"
    assert record["indices"] == result.indices and record["rows"] == ["input", "translation", "round trip"]
    assert np.allclose(record["style"], style_of(window.explore).reshape(-1).numpy())
    assert np.allclose(record["cycle_errors"], (x - back).abs().flatten(1).mean(1).numpy(), atol=1e-6)


def test_cycle_error_histogram_worst_bar_holds_the_worst_image(qtbot, window, checkpoint, model, domains):
    open_and_wait(qtbot, window, checkpoint)
    inspect, explore = window.inspect, window.explore
    tool = inspect.tool_of(CycleErrorTool)
    window.tabs.setCurrentWidget(inspect)
    inspect.pages.setCurrentWidget(tool)
    new_result(qtbot, lambda: tool.picked, tool.measure, timeout=60000)      # the worst image, shown as it lands
    x = domains[0]
    _, back = model.round_trip(x, direction=0, style=style_of(explore).expand(len(x), -1))
    errors = (x - back).abs().flatten(1).mean(1).numpy()
    assert np.allclose(tool.result.errors, errors, atol=1e-5)
    worst = int(np.argmax(errors))
    assert list(tool.shown_indices) == list(np.argsort(-errors)[:len(tool.shown_indices)])   # the worst, worst first
    assert tool.shown_indices[0] == worst
    assert tool.picked.name == f"A: mnist[0:40] #{worst}" and "rank 1 of 40" in tool.pick_label.text()
    assert_shows(tool.picked, model, x[worst:worst + 1], 0, style_of(explore))
    heights = tool.bars.opts["height"]
    assert heights[-1] > 0 and heights.sum() == len(x)                # the worst bar is the last one
    new_result(qtbot, lambda: tool.picked, lambda: tool.show_bin(len(heights) - 1))
    assert tool.shown_indices[0] == worst and tool.picked.name == f"A: mnist[0:40] #{worst}"

    # A click on a bar's other image shows that image's round trip.
    new_result(qtbot, lambda: tool.picked, lambda: tool.show_bin(int(np.argmax(heights))))    # the fullest bar
    last = len(tool.shown_indices) - 1
    index = int(tool.shown_indices[last])
    new_result(qtbot, lambda: tool.picked,
               lambda: qtbot.mouseClick(tool.bin_view, Qt.LeftButton, pos=tool.bin_view.centre_of(last).toPoint()))
    assert tool.picked.name == f"A: mnist[0:40] #{index}"
    assert_shows(tool.picked, model, x[index:index + 1], 0, style_of(explore))


def test_layer_view_shows_the_generator_of_the_direction(qtbot, window, checkpoint):
    open_and_wait(qtbot, window, checkpoint)
    inspect = window.inspect
    layer = inspect.tool(None)
    window.tabs.setCurrentWidget(inspect)
    inspect.pages.setCurrentWidget(layer)
    qtbot.waitUntil(lambda: layer.result is not None and layer.tiles_view.image() is not None, timeout=30000)
    assert layer.result.names and all(name.startswith("g_ab") for name in layer.result.names)
    result = new_result(qtbot, lambda: layer.result, lambda: window.explore.option_boxes["direction"].setValue(1))
    assert result.names and all(name.startswith("g_ba") for name in result.names)


def test_every_view_of_the_current_image_translates_the_explorers_input(qtbot, window, checkpoint, model, domains,
                                                                        tmp_path):
    """One state, one picture: the Layer view, the history's thumbnails, a grid export and the latent
    record of "export as shown" translate the input the explorer shows (data image 7), not the
    model's kept examples; undo brings back the input with the latent, and the command line renders
    the saved record as the explorer showed it."""
    from genstudio.cli import main

    open_and_wait(qtbot, window, checkpoint)
    explore, session = window.explore, window.session
    assert len(window.history.history.entries) == 1            # opened once: one state, its input made
    view = shown_after(qtbot, explore, lambda: explore.translation_input.index.setValue(7))
    x = domains[0][7:8]
    assert session.source.name == "A: mnist[0:40] #7" and torch.equal(session.source.image, x)
    style = style_of(explore)
    expected = model.translate(x, direction=0, style=style)[0].numpy()           # (1, 28, 28)
    assert np.allclose(view.translation, expected, atol=1e-5)

    inspect = window.inspect
    layer = inspect.tool(None)
    window.tabs.setCurrentWidget(inspect)
    inspect.pages.setCurrentWidget(layer)
    qtbot.waitUntil(lambda: layer.result is not None and layer.tiles_view.image() is not None, timeout=30000)
    assert np.allclose(layer.result.image, expected, atol=1e-5)
    window.tabs.setCurrentWidget(explore)

    # A new style code, then undo: the state before it (its input included) comes back, and its
    # thumbnail is that translation.
    shown_after(qtbot, explore, explore.randomise)
    view = shown_after(qtbot, explore, lambda: window.history.undo())
    assert view.name == "A: mnist[0:40] #7" and np.allclose(view.translation, expected, atol=1e-5)
    entry = window.history.history.entries[window.history.history.index]
    qtbot.waitUntil(lambda: entry.thumbnail is not None, timeout=30000)
    assert np.allclose(np.asarray(entry.thumbnail)[:, 2:30, 32:60], expected, atol=1e-5)

    # A drag through the data images is one state, ending on the image let go on.
    states = window.history.history.index + 1           # the states up to this one (the undone one goes)
    slider = explore.translation_input.slider
    slider.setSliderDown(True)                      # pressed: what a hand on the handle does
    for index in (8, 9, 10):                        # each shown while the hand moves
        shown_after(qtbot, explore, lambda: slider.setValue(index))
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: explore.last_translation.name.endswith("#10") and not explore.source_pending(),
                    timeout=30000)
    assert len(window.history.history.entries) == states + 1
    assert window.history.history.entries[-1].state["source"]["index"] == 10
    shown_after(qtbot, explore, lambda: window.history.undo())
    assert explore.last_translation.name.endswith("#7")

    grid = tmp_path / "grid.png"
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid(grid, {"kind": "seeds", "rows": 1, "cols": 2, "seed": 4, "padding": 0, "scale": 1})
    record = json.loads(grid.with_suffix(".json").read_text())
    styles = torch.tensor(record["latents"])
    cells = np.asarray(Image.open(grid).convert("L"), dtype=np.float32) / 255            # (28, 56)
    translated = model.translate(x.expand(2, -1, -1, -1), direction=0, style=styles)
    assert np.abs(cells[:, 28:] - translated[1, 0].numpy()).max() <= 1 / 255 + 1e-6

    shown = window.exports.export_shown(tmp_path / "shown.png")
    latent = shown.with_suffix(".json")
    assert json.loads(latent.read_text())["source"]["name"] == "A: mnist[0:40] #7"
    assert main(["sample", str(checkpoint), "--latent", str(latent), "--out", str(tmp_path / "cli.png")]) == 0
    cli = np.asarray(Image.open(tmp_path / "cli.png").convert("L"), dtype=np.float32) / 255
    assert np.abs(cli - expected[0]).max() <= 1 / 255 + 1e-6


def test_switching_to_another_model_and_back_leaves_nothing_stale(qtbot, window, checkpoint):
    open_and_wait(qtbot, window, checkpoint)
    explore, inspect, scope = window.explore, window.inspect, window.scope
    new_result(qtbot, lambda: explore.last_strip, explore.randomise_endpoints)
    window.tabs.setCurrentWidget(inspect)
    grid = inspect.tool_of(TranslationGridTool)
    new_result(qtbot, lambda: grid.result, lambda: inspect.pages.setCurrentWidget(grid))
    cycle = inspect.tool_of(CycleErrorTool)
    inspect.pages.setCurrentWidget(cycle)
    new_result(qtbot, lambda: cycle.picked, cycle.measure, timeout=60000)
    grid.translate()                                   # still in flight as the model goes
    window.tabs.setCurrentWidget(explore)
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    open_and_wait(qtbot, window, gan)
    assert scope.stale() == []
    assert explore.last_translation is None and not explore.translation_input.isVisible()
    assert explore.neighbours_box.isVisible() and explore.last_image.shape == (1, 28, 28)
    assert cycle.bin_view.image() is None and cycle.pick_view.image() is None and grid.view.image() is None
    open_and_wait(qtbot, window, checkpoint)
    assert scope.stale() == []
    assert explore.translation_input.isVisible() and explore.last_translation.name == "A: mnist[0:40] #0"
    assert cycle.result is None and grid.result is None and not grid.export_button.isEnabled()
