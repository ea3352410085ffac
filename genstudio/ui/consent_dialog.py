"""Asking before a foreign generator's code runs: Run once / Always trust this file / Cancel.

A TorchScript or torch.export file is a program from its author (genstudio.core.io.foreign). The app
opens one only after the person says so here, or after they chose "Always trust this file" for the
very same bytes: the remembered answer is keyed by the file's SHA-256 in the window's QSettings, so a
changed file (one byte is enough) is asked about again, and a renamed or copied one is not.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from genstudio.core.io.foreign import ForeignFile

RUN_ONCE = "run-once"
ALWAYS = "always"
CANCEL = "cancel"
TRUSTED_KEY = "trusted-code"      # QSettings group: sha256 -> the path it was trusted under


class CodeConsentDialog(QDialog):
    """Says plainly what opening the file means; `choice` is RUN_ONCE, ALWAYS or CANCEL."""

    def __init__(self, foreign: ForeignFile, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice = CANCEL
        self.setWindowTitle("Run a program from its author?")
        text = QLabel(
            f"<p><b>{_escape(foreign.path.name)}</b> is a {foreign.label} file: a program written by its "
            "author. Opening it runs that program on this computer, with your permissions: it can read "
            "and change your files.</p>"
            "<p>Open it only if you trust where it came from.</p>"
            f"<p>File: {_escape(str(foreign.path))}<br>Kind: {foreign.label} ({foreign.size:,} bytes)<br>"
            f"SHA-256 fingerprint: <code>{foreign.sha256}</code></p>")
        text.setWordWrap(True)
        text.setTextFormat(Qt.RichText)
        text.setTextInteractionFlags(Qt.TextSelectableByMouse)   # the fingerprint can be copied and compared
        self.text = text
        self.buttons = QDialogButtonBox()
        self.run_once = self._button("Run once", RUN_ONCE, QDialogButtonBox.AcceptRole)
        self.always = self._button("Always trust this file", ALWAYS, QDialogButtonBox.AcceptRole)
        self.cancel = self._button("Cancel", CANCEL, QDialogButtonBox.RejectRole)
        self.cancel.setDefault(True)       # Enter must not run a program
        self.cancel.setFocus()
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.buttons)

    def _button(self, label: str, choice: str, role) -> QPushButton:
        button = self.buttons.addButton(label, role)
        button.setAutoDefault(False)
        button.clicked.connect(lambda: self._choose(choice))
        return button

    def _choose(self, choice: str) -> None:
        self.choice = choice
        (self.reject if choice == CANCEL else self.accept)()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ask(parent: QWidget | None, foreign: ForeignFile) -> str:
    """Show the dialog (modal) and return the person's choice. Tests replace this function, or the
    dialog's exec, so no real modal dialog ever blocks a test."""
    dialog = CodeConsentDialog(foreign, parent)
    dialog.exec()
    return dialog.choice


def is_trusted(settings: QSettings, foreign: ForeignFile) -> bool:
    return settings.value(f"{TRUSTED_KEY}/{foreign.sha256}") is not None


def allowed(parent: QWidget | None, settings: QSettings, foreign: ForeignFile) -> bool:
    """May this file's code run? Yes without asking when these exact bytes were trusted before;
    otherwise ask, and remember an "Always trust this file" by fingerprint."""
    if is_trusted(settings, foreign):
        return True
    choice = ask(parent, foreign)
    if choice == ALWAYS:
        settings.setValue(f"{TRUSTED_KEY}/{foreign.sha256}", str(foreign.path))
        settings.sync()
    return choice in (RUN_ONCE, ALWAYS)
