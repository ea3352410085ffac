"""The panels' file dialogs go through file_dialogs: the Train tab's folder buttons and the
Diagnostics report's save start in the last folder of their kind and remember the one chosen."""

import json

from PySide6.QtWidgets import QFileDialog


def test_panel_dialogs_start_in_the_last_folder_of_their_kind(qtbot, window, monkeypatch, tmp_path):
    data, runs, reports = (tmp_path / name for name in ("data", "runs", "reports"))
    for folder in (data, runs, reports):
        folder.mkdir()
    started: list[str] = []

    def pick_folder(parent, title, start, *a, **k):
        started.append(start)
        return str(data if "images" in title else runs)

    def pick_save(parent, title, suggestion, *a, **k):
        started.append(suggestion)
        return str(reports / "report.json"), ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick_folder)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", pick_save)
    train = window.train
    train.browse_data.click()
    assert train.data.currentText() == f"folder:{data}"
    train.browse_data.click()
    train.browse_out.click()
    assert train.out_dir.text() == str(runs)
    train.browse_out.click()
    assert started[1] == str(data) and started[3] == str(runs)      # each kind starts where it was left

    panel = window.diagnostics
    panel.report = {"fake_samples": 3}
    panel._save_dialog()
    panel._save_dialog()
    assert started[5] == str(reports / "diagnostics.json")          # the second save starts beside the first
    assert json.loads((reports / "report.json").read_text()) == {"fake_samples": 3}
