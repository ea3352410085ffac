"""Opening another model is a clean slate (ui/model_bound.py): every widget bound to the scope shows
nothing, or something made for the model now open, after each switch between the bundled demos (in
every ordered pair under `make test-long`, round them both ways under `make test`), whatever the
previous model showed or still had in flight; a latent restored at start shows its own seed, and
every state of the history strip gets its thumbnail."""

import threading

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from genstudio.core.families.family import Capability
from genstudio.ui.history_strip import HistoryStrip
from genstudio.ui.main_window import MainWindow
from genstudio.ui.model_bound import ModelScope
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.render_worker import Renderer
from genstudio.ui.widgets.image_view import ImageView

SMALL = 64               # data images each tool measures, encodes or maps


class Echo:
    """A render request whose result is its value, returned once `release` is set (None: at once)."""

    def __init__(self, value, release: threading.Event | None = None):
        self.value, self.release = value, release

    def run(self, model, cache):
        if self.release is not None:
            self.release.wait(10)
        return self.value


def test_scope_clears_bound_views_and_drops_the_old_models_requests(qtbot):
    renderer = Renderer()
    renderer.set_model(object())          # Echo never calls it
    scope = ModelScope(renderer)
    view, caption, bars = ImageView(), QLabel("Hover over the map"), pg.BarGraphItem(x=[], height=[], width=1)
    image = scope.bind("image", view, caption)
    plot = scope.bind("bars", bars)
    assert not image.shows() and not plot.shows() and scope.stale() == []

    scope.switch("first")
    view.set_array(np.zeros((1, 4, 4), np.float32))
    image.show(scope.generation)
    bars.setOpts(x=[1, 2], height=[3, 4])
    plot.show(None)                        # shown without saying for which model: never current
    assert image.shows() and scope.stale() == [plot]

    delivered = []
    renderer.done.connect(lambda channel, result, ms: delivered.append((channel, result)))
    release = threading.Event()
    scope.submit("slow", Echo("old model", release))
    assert scope.made_for("slow") == 1
    scope.switch("second")
    assert view.image() is None and caption.text() == "Hover over the map" and len(bars.opts["height"]) == 0
    assert image.generation is None and scope.stale() == []
    release.set()
    with qtbot.waitSignal(renderer.done, timeout=10000):
        scope.submit("fast", Echo("new model"))
    assert delivered == [("fast", "new model")]     # the old model's result, finished first, never landed
    assert scope.made_for("fast") == 2 and scope.made_for("slow") is None

    caption.setText("decoded by the first model")
    image.show(1)
    assert scope.stale() == [image]
    refreshed = []
    scope.refreshed.connect(refreshed.append)
    scope.refresh("second, newer weights")
    assert refreshed == ["second, newer weights"] and scope.generation == 2 and caption.text()
    renderer.shutdown()


def demo(stem):
    return next(p for p in demo_checkpoints() if p.stem == stem)


def every_ordered_pair(names: list[str]) -> list[str]:
    """A walk through `names` that goes from each to each other exactly once (an Euler circuit of
    the complete directed graph; Hierholzer): len(names) * (len(names) - 1) steps."""
    left = {a: [b for b in names if b != a] for a in names}
    stack, walk = [names[0]], []
    while stack:
        if left[stack[-1]]:
            stack.append(left[stack[-1]].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def round_both_ways(names: list[str]) -> list[str]:
    """A walk round `names` and back the other way: each model is left for two others and reached from
    two others, 2 len(names) steps (every_ordered_pair's 42 take `make test-long`)."""
    return names + [names[0]] + names[::-1]


def exercise(qtbot, window, small, first_visit: bool) -> None:
    """Make every tab show what the open model computes: the image and an A-B strip, a latent map
    and a hover on it, each Inspect page's result (its costly ones on the model's first visit)."""
    explore, info = window.explore, window.opened
    if not info.is_points:
        with qtbot.waitSignal(explore.strip_view.shown, timeout=60000):
            explore.randomise_endpoints()
    panel = window.map
    if info.has(Capability.ENCODE) and not info.preview_options():
        window.tabs.setCurrentWidget(panel)
        with qtbot.waitSignal(panel.tasks.finished, timeout=60000):
            panel.build_map(small)
        with qtbot.waitSignal(panel.hover_view.shown, timeout=30000):
            panel.hover_at(panel.projection.points[0])
    inspect = window.inspect
    window.tabs.setCurrentWidget(inspect)
    for tool in inspect.active_tools():
        inspect.pages.setCurrentWidget(tool)
        tool.use_dataset(small)
        if info.has(Capability.EXACT_LIKELIHOOD) and tool is inspect.tool(Capability.EXACT_LIKELIHOOD):
            with qtbot.waitSignal(inspect.tasks.finished, timeout=60000):
                tool.measure_dataset()
            assert tool.bin_label.text().startswith("bits/dim")
        elif tool is inspect.tool(None):
            qtbot.waitUntil(lambda: tool.tiles_view.image() is not None or bool(tool.caption.text()), timeout=30000)
        elif not first_visit:
            continue
        elif tool is inspect.tool(Capability.ENCODE):
            with qtbot.waitSignal(tool.view.shown, timeout=60000):
                tool.encode(3)
        elif tool is inspect.tool(Capability.IMAGE_PROJECTION):
            tool.steps.setValue(10)
            tool.restarts.setValue(1)
            with qtbot.waitSignal(inspect.tasks.finished, timeout=60000):
                tool.project(0)
        elif tool is inspect.tool(Capability.VARIATIONS):
            tool.count.setValue(2)
            with qtbot.waitSignal(tool.view.shown, timeout=120000):
                tool.make()
        elif tool is inspect.tool(Capability.COMPLETION):
            tool.count.setValue(1)
            with qtbot.waitSignal(tool.view.shown, timeout=120000):
                tool.complete()
    window.tabs.setCurrentWidget(explore)


@pytest.mark.parametrize("walk_of,steps", [
    (round_both_ways, 14),
    pytest.param(every_ordered_pair, 42, marks=pytest.mark.long),     # 2.5 minutes on 2 cores
], ids=["round-both-ways", "every-ordered-pair"])
def test_switches_between_the_demos_are_a_clean_slate(qtbot, window, mnist, walk_of, steps):
    small = type(mnist)("mnist", mnist.data[:SMALL], mnist.labels[:SMALL], mnist.label_names)
    names = sorted(p.stem for p in demo_checkpoints())
    assert len(names) == 7
    walk = walk_of(names)
    assert len(walk) == steps + 1 and len(set(zip(walk, walk[1:]))) == steps      # no switch twice
    scope, visited = window.scope, set()
    for step, name in enumerate(walk):
        previous = scope.generation
        if step:
            # Results of the old model still in flight as it goes: a strip, a hover, the layer page.
            window.explore.render_strip()
            if window.map.projection is not None:
                window.map.hover_at(window.map.projection.points[1])
        shown_before = [b.name for b in scope.bound if b.shows()]
        with qtbot.waitSignal(window.explore.image_view.shown, timeout=60000):
            assert window.open_path(demo(name))
        assert scope.generation == previous + 1
        stale = [(b.name, b.generation) for b in scope.stale()]
        assert stale == [], f"{walk[step - 1] if step else '-'} -> {name}: still shown {stale}"
        if step:
            assert len(shown_before) >= 4, shown_before           # the old model had results on show
        assert window.explore.strip_view.image() is None           # the new model has no A-B yet
        exercise(qtbot, window, small, first_visit=name not in visited)
        visited.add(name)
        stale = [(b.name, b.generation) for b in scope.stale()]
        assert stale == [], f"{name} after its exercise: {stale}"


def test_restored_latent_shows_its_seed_and_every_history_slot_renders(qtbot, tmp_path):
    path = str(tmp_path / "settings.ini")
    first = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(first)
    first.show()
    with qtbot.waitSignal(first.explore.image_view.shown, timeout=30000):
        first.open_path(demo("vae-mnist"))
    first.session.set_seed(41)
    first.session.move_dimension(0, 1.25)
    latent = first.session.z.clone()
    first.close()

    second = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(second)
    second.show()
    second.open_default()
    assert torch.equal(second.session.z, latent)
    assert second.session.seed == 41 and second.explore.seed.value() == 41
    history = second.history.history
    assert len(history.entries) == 1 and history.entries[0].state["seed"] == 41
    qtbot.waitUntil(lambda: history.entries[0].thumbnail is not None, timeout=30000)

    # States clicked through faster than they decode: each one's own decode was overtaken, and the
    # strip still draws every one of them.
    for seed in (5, 6, 7, 8):
        second.session.set_seed(seed)
    assert len(history.entries) == 5
    qtbot.waitUntil(lambda: all(e.thumbnail is not None for e in history.entries), timeout=30000)
    strip = second.findChild(HistoryStrip)
    qtbot.waitUntil(lambda: strip.thumbnails_shown() == 5, timeout=10000)
    assert [b.toolTip().split("seed ")[1] for b in strip.buttons[:5]] == ["41", "5", "6", "7", "8"]
    second.close()
