"""The Explore menu: keyboard shortcuts for the explorer's everyday moves (randomise, reset, set A
and B, step along A -> B, next and previous seed, slerp on or off), copying the image as shown to
the clipboard at a chosen upscale, cancelling a running decode (Escape), and Help -> Keyboard
shortcuts, a list made from the window's own actions so it can never disagree with them.

Single-key shortcuts are window-wide, but a focused text or number box takes its keys first (Qt's
shortcut override), so typing a seed never randomises the latent.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from genstudio.ui.widgets.image_view import to_qimage

COPY_SCALES = (1, 2, 4, 8)


def upscaled(image: np.ndarray, scale: int) -> QImage:
    """(C, H, W) floats in [0, 1] -> a QImage `scale` times larger, pixels kept sharp (nearest)."""
    if scale > 1:
        image = image.repeat(scale, axis=-2).repeat(scale, axis=-1)
    return to_qimage(image)


def next_frame_t(t: float, frames: int, direction: int) -> float:
    """The t of the strip frame after (direction +1) or before (-1) `t`, frames at k / (frames - 1)."""
    gaps = max(frames - 1, 1)
    position = t * gaps
    # t comes back from a slider of 1,000 ticks: within a tick of a frame it is on that frame.
    on_frame = round(position)
    if abs(t - on_frame / gaps) <= 0.001:
        k = on_frame + direction
    else:
        k = math.floor(position) + 1 if direction > 0 else math.ceil(position) - 1
    return min(gaps, max(0, k)) / gaps


class ExploreActions:
    def __init__(self, window):
        self.window = window
        self.copy_scale = 4
        self.scale_actions: dict[int, QAction] = {}

    def build(self, menu_bar) -> None:
        w, explore, session = self.window, self.window.explore, self.window.session
        menu = menu_bar.addMenu("E&xplore")
        add = w._action
        add(menu, "&Randomise latent", explore.randomise, "R")
        add(menu, "Re&set latent", session.reset, "Shift+R")
        add(menu, "Set &A to the current latent", lambda: session.set_endpoint("a"), "A")
        add(menu, "Set &B to the current latent", lambda: session.set_endpoint("b"), "B")
        add(menu, "Step &forward along A \u2192 B", lambda: self.step_t(+1), "]")
        add(menu, "Step back along A \u2192 B", lambda: self.step_t(-1), "[")
        add(menu, "&Next seed", lambda: explore.seed.setValue(explore.seed.value() + 1), ".")
        add(menu, "&Previous seed", lambda: explore.seed.setValue(explore.seed.value() - 1), ",")
        add(menu, "Toggle s&lerp", lambda: explore.slerp.setChecked(not explore.slerp.isChecked()), "S")
        # The explorer's own Escape action (enabled while a decode or export runs), here so the menu
        # and Help -> Keyboard shortcuts list it.
        menu.addAction(explore.cancel_action)
        menu.addSeparator()
        add(menu, "&Copy image", self.copy_image, QKeySequence.Copy)
        scales = menu.addMenu("Copy at &scale")
        group = QActionGroup(scales)
        for scale in COPY_SCALES:
            action = QAction(f"{scale}\u00d7", scales, checkable=True)
            action.setChecked(scale == self.copy_scale)
            action.triggered.connect(lambda checked=False, s=scale: setattr(self, "copy_scale", s))
            group.addAction(action)
            scales.addAction(action)
            self.scale_actions[scale] = action
        help_menu = menu_bar.addMenu("&Help")
        add(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")

    def step_t(self, direction: int) -> None:
        """Move t to the next strip frame towards B (+1) or A (-1): steps of 1 / (frames - 1), so
        each press lands on a frame of the strip; a t between frames (the slider) first snaps to
        the frame on that side. Sets A and B around the latent first if unset."""
        explore, session = self.window.explore, self.window.session
        if not session.has_path:
            session.set_endpoint("a")
            session.set_endpoint("b", session.seeded_latent(session.seed + 1))
        t = next_frame_t(session.t, session.frames, direction)
        explore.t_slider.setValue(int(round(t * explore.t_slider.maximum())))

    def copy_image(self) -> QImage | None:
        """The explorer's image, as shown, `copy_scale` times larger, onto the clipboard."""
        image = self.window.explore.last_image
        if image is None:
            self.window.show_status("nothing to copy: no image is shown")
            return None
        if image.ndim != 3:                                 # 2-D points are a plot, not an image
            self.window.show_status("a point model's view cannot be copied as an image")
            return None
        qimage = upscaled(image, self.copy_scale)
        QGuiApplication.clipboard().setImage(qimage)
        self.window.show_status(f"copied a {qimage.width()}\u00d7{qimage.height()} image to the clipboard")
        return qimage

    def shortcuts(self) -> list[tuple[str, str]]:
        """(action, keys) of every menu action that has a shortcut, in menu order."""
        out = []
        for menu_action in self.window.menuBar().actions():
            out += _with_keys(menu_action.menu(), menu_action.text().replace("&", ""))
        return out

    def show_shortcuts(self) -> QDialog:
        rows = self.shortcuts()
        dialog = QDialog(self.window)
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(520, 560)
        dialog.show()
        self.dialog = dialog
        return dialog


def _with_keys(menu, path: str) -> list[tuple[str, str]]:
    out = []
    for action in menu.actions() if menu is not None else []:
        name = f"{path} \u2192 {action.text().replace('&', '')}"
        if action.menu() is not None:
            out += _with_keys(action.menu(), name)
        elif not action.shortcut().isEmpty():
            out.append((name, action.shortcut().toString(QKeySequence.NativeText)))
    return out
