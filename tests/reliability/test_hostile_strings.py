"""Strings from a file never reach a terminal or a label raw (issue 28, case 9): a checkpoint whose
header holds terminal escape sequences (clear the screen, retitle the window), a right-to-left
override and a NUL is described by `genstudio info` and opened for the app with every such
character written as an escape."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from checkpoint_files import rewrite_header  # noqa: E402  (tests/core)

from genstudio.cli import main  # noqa: E402
from genstudio.core.io.file_checks import printable  # noqa: E402
from genstudio.core.io.open_model import open_model  # noqa: E402
from genstudio.core.runtime.resources import resource_path  # noqa: E402

HOSTILE = "\x1b[2J\x1b]0;pwned\x07"
RAW = ("\x1b", "\x07", "\u202e", "\x00")


@pytest.fixture(scope="module")
def hostile_checkpoint(tmp_path_factory):
    def change(header):
        header["created"] = HOSTILE
        names = header["data"]["label_names"]
        names[0], names[1] = "\u202eevil.exe", "a\x00b"

    src = Path(resource_path("checkpoints", "gan-mnist.safetensors"))
    return rewrite_header(src, tmp_path_factory.mktemp("hostile") / "hostile.safetensors", change)


def test_info_escapes_control_and_bidi_characters(hostile_checkpoint, capsys):
    assert main(["info", str(hostile_checkpoint)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in RAW), repr(out)
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in out


def test_the_apps_class_names_are_escaped(hostile_checkpoint):
    info = open_model(hostile_checkpoint).info
    assert info.label_names[:2] == ["\\u202eevil.exe", "a\\x00b"]
    assert info.card.label_names[0] == "\u202eevil.exe"          # the file's own value is kept as it was


@pytest.mark.parametrize("text, shown", [
    ("plain name", "plain name"),
    ("caf\udce9", "caf\\xe9"),                 # a non-UTF-8 file name's byte
    ("\ud800", "\\ud800"),                     # a lone surrogate from JSON
    ("tab\there", "tab\\x09here"),
    ("\u2067isolate\u2069", "\\u2067isolate\\u2069"),
    ("\x9bC1", "\\x9bC1"),                     # an 8-bit CSI
])
def test_printable(text, shown):
    assert printable(text) == shown
