"""The panels behind the Latent map, Inspect, Diagnostics and Train tabs are built when first needed
(ui/deferred_tabs.py): a click on the tab builds and shows its panel in its place; a panel built
after a model opened shows that model; its splitters come back from the settings and are saved
again even when a session never built it; and start-up builds the rest once the explorer works."""

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QSplitter

from genstudio.ui.main_window import MainWindow
from genstudio.ui.model_list import demo_checkpoints

DEFERRED = ("map", "inspect", "diagnostics", "train")
TITLES = ["Explore", "Latent map", "Inspect", "Diagnostics", "Train", "Runs"]


def demo(name):
    return next(p for p in demo_checkpoints() if p.stem == name)


def new_window(qtbot, path) -> MainWindow:
    window = MainWindow(QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_tab_s_panel_is_built_when_the_tab_is_clicked(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path / "settings.ini")
    assert all(window.deferred.built(name) is None for name in DEFERRED)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == TITLES

    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(TITLES.index("Train")).center())
    train = window.deferred.built("train")
    assert train is not None and train.isVisible()
    assert window.tabs.currentWidget() is train is window.train
    assert window.tabs.indexOf(train) == TITLES.index("Train")
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == TITLES
    assert all(window.deferred.built(name) is None for name in ("map", "inspect", "diagnostics"))
    window.close()


def test_a_panel_built_after_a_model_opened_shows_that_model(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path / "settings.ini")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(demo("vae-mnist"))
    window.tabs.setCurrentIndex(TITLES.index("Inspect"))
    inspect = window.deferred.built("inspect")
    assert inspect is not None and inspect.info == window.opened
    assert inspect.pages.count() > 0                    # the VAE's tools (its round trip...)
    assert window.diagnostics.info == window.opened and window.map.info == window.opened
    assert window.map.build_button.isEnabled()          # a VAE encodes: its map can be built
    assert window.scope.stale() == []
    window.close()


def test_splitters_of_a_panel_survive_sessions_that_never_built_it(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    first = new_window(qtbot, path)
    first.map.findChild(QSplitter, "map-split").setSizes([300, 700])
    state = first.findChild(QSplitter, "map-split").saveState()
    first.close()

    second = new_window(qtbot, path)                    # the map is never built in this session
    assert second.deferred.built("map") is None
    second.close()

    third = new_window(qtbot, path)
    assert third.map.findChild(QSplitter, "map-split").saveState() == state
    third.window_state.reset_layout()                   # back to the map's layout as built
    assert third.findChild(QSplitter, "map-split").saveState() != state
    third.close()


def test_the_rest_are_built_a_turn_at_a_time(qtbot, tmp_path):
    window = new_window(qtbot, tmp_path / "settings.ini")
    window.build_deferred_panels()
    assert all(window.deferred.built(name) is None for name in DEFERRED)       # not in this call
    qtbot.waitUntil(lambda: all(window.deferred.built(name) is not None for name in DEFERRED), timeout=10000)
    assert [window.tabs.widget(i) for i in range(window.tabs.count())] == [
        window.explore, window.map, window.inspect, window.diagnostics, window.train, window.runs]
    assert window.tabs.currentWidget() is window.explore
    window.close()
