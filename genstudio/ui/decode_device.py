"""Where the explorer decodes: the View menu's device choice (remembered in the settings; 'auto'
takes CUDA, then Apple MPS, then the CPU) and the status-bar readout of the open model's device,
the memory its weights take, and how long the last image took to decode."""

from __future__ import annotations

import torch
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMenu

from genstudio.core.errors import DeviceError
from genstudio.core.runtime.devices import (
    DEVICE_CHOICES,
    describe_device,
    device_availability,
    module_bytes,
    resolve_device,
)
from genstudio.core.runtime.memory_budget import format_bytes

SETTING = "decode/device"
LABELS = {"auto": "&Automatic (best available)", "cpu": "&CPU", "cuda": "CUDA &GPU", "mps": "Apple &MPS"}


class DecodeDevice(QObject):
    """The device choice behind View -> Decode on; `changed` fires with the new choice."""

    changed = Signal(str)

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self.settings = settings
        choice = str(settings.value(SETTING, "auto"))
        self.choice = choice if choice in DEVICE_CHOICES else "auto"
        self.actions: dict[str, QAction] = {}

    def build_menu(self, menu: QMenu) -> QMenu:
        submenu = menu.addMenu("Decode &on")
        group = QActionGroup(submenu)
        for name, (available, reason) in device_availability().items():
            action = QAction(LABELS[name], submenu, checkable=True)
            action.setEnabled(available)
            action.setToolTip(reason)
            action.setStatusTip(reason if available else f"{LABELS[name].replace('&', '')}: {reason}")
            action.setChecked(name == self.choice)
            action.triggered.connect(lambda checked=False, n=name: self.choose(n))
            group.addAction(action)
            self.actions[name] = action
        submenu.setToolTipsVisible(True)
        return submenu

    def choose(self, name: str) -> None:
        if name == self.choice:
            return
        self.choice = name
        self.settings.setValue(SETTING, name)
        if name in self.actions:
            self.actions[name].setChecked(True)
        self.changed.emit(name)

    def device(self) -> torch.device:
        """The chosen device, or the CPU when a remembered choice is not available on this machine."""
        try:
            return resolve_device(self.choice)
        except DeviceError:
            return torch.device("cpu")


class DecodeStatus(QLabel):
    """'cuda:0 (NVIDIA H200) · weights 9.4 MiB · decode 12 ms' in the status bar."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.device_text = ""
        self.weights = 0
        self.last_ms: float | None = None

    def set_model(self, model) -> None:
        device = getattr(model, "device", torch.device("cpu"))
        self.device_text = describe_device(device)
        self.weights = module_bytes(model)
        self.last_ms = None
        self._show()

    def decoded(self, ms: float) -> None:
        self.last_ms = ms
        self._show()

    def _show(self) -> None:
        parts = [self.device_text, f"weights {format_bytes(self.weights)}"]
        if self.device_text.startswith("cuda"):
            parts.append(f"GPU memory {format_bytes(torch.cuda.memory_allocated())} in use")
        if self.last_ms is not None:
            parts.append(f"decode {self.last_ms:.0f} ms")
        self.setText(" \u00b7 ".join(parts))
