"""Where the explorer decodes: the View menu's device choice (remembered in the settings; 'auto'
takes CUDA, then Apple MPS, then the CPU) and the status-bar readout of the open model's device,
the memory its weights take, and how long the last image took to decode."""

from __future__ import annotations

import torch
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QWidget

from genstudio.core.errors import DeviceError
from genstudio.core.runtime.devices import (
    DEVICE_CHOICES,
    describe_device,
    device_availability,
    module_bytes,
    resolve_device,
)
from genstudio.core.runtime.memory_budget import format_bytes
from genstudio.ui.widgets.readout import Readout

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


class DecodeStatus(QWidget):
    """'cuda:0 (NVIDIA H200) · weights 9.4 MiB · decode 12 ms' in the status bar. What changes at
    every decode (the time, a GPU's memory in use) is a fixed-size readout beside the label of the
    device and weights: a plain label's new width re-laid out the status bar and the window at every
    slider move."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.device_text = ""
        self.weights = 0
        self.last_ms: float | None = None
        self.model_label = QLabel()
        self.readout = Readout("")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.model_label)
        row.addWidget(self.readout)

    def text(self) -> str:
        return self.model_label.text() + self.readout.text()

    def set_model(self, model) -> None:
        device = getattr(model, "device", torch.device("cpu"))
        self.device_text = describe_device(device)
        self.weights = module_bytes(model)
        self.last_ms = None
        self.model_label.setText(f"{self.device_text} \u00b7 weights {format_bytes(self.weights)}")
        self.readout.fit(self._changing(gpu_bytes=999.9 * 2**30, ms=99999))
        self._show()

    def decoded(self, ms: float) -> None:
        self.last_ms = ms
        self._show()

    def _changing(self, gpu_bytes: float | None, ms: float | None) -> str:
        parts = []
        if self.device_text.startswith("cuda") and gpu_bytes is not None:
            parts.append(f"GPU memory {format_bytes(gpu_bytes)} in use")
        if ms is not None:
            parts.append(f"decode {ms:.0f} ms")
        return "".join(f" \u00b7 {part}" for part in parts)

    def _show(self) -> None:
        gpu = torch.cuda.memory_allocated() if self.device_text.startswith("cuda") else None
        self.readout.setText(self._changing(gpu, self.last_ms))
