"""One line, every time, for data files and arguments; no hangs on special files.

Each case is a file or argument a careless user or an attacker could hand genstudio: a FIFO or a
device where a file belongs, idx headers whose sizes overflow or describe nothing, decompression
bombs, truncated or fake images, bad `folder:` options, non-UTF-8 names, nonsensical numbers on the
command line. Each must end in one line that names the file (or the flag) and the reason; the
FIFO cases run under an alarm, so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import signal
import socket
import struct
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from genstudio.cli import main
from genstudio.core.data.idx import load_idx_folder, read_idx
from genstudio.core.data.image_folder import load_image_folder
from genstudio.core.data.image_io import MAX_IMAGE_PIXELS, load_image_as
from genstudio.core.data.spec import load_dataset
from genstudio.core.errors import CheckpointError, DataError, GenStudioError
from genstudio.core.io.file_checks import check_readable_file, open_regular_file, printable, read_regular_file
from genstudio.core.runtime.memory_budget import budget_bytes, check_memory, format_bytes
from genstudio.core.runtime.resources import resource_path

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
DEMO_GAN = resource_path("checkpoints", "gan-mnist.safetensors")


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail instead of hanging when a FIFO open blocks after all (SIGALRM interrupts the open)."""
    def expired(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line(exc_info, *needles: str) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and message.strip() == message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def idx(dtype_code: int, dims, payload: bytes = b"") -> bytes:
    return bytes([0, 0, dtype_code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims) + payload


def png_with_header(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR declares width x height grey pixels and whose data is a few zero bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def good_png(path: Path, size=(12, 10), color=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def mnist_pair(folder: Path, images: bytes, labels: bytes, prefix: str = "t10k") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(images)
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(labels)
    return folder


# --- file_checks ----------------------------------------------------------------------------------

@posix_only
def test_special_files_are_refused_before_any_open(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.safetensors"
    folder.mkdir()
    broken = tmp_path / "broken.safetensors"
    broken.symlink_to(tmp_path / "nowhere")
    zero_link = tmp_path / "zero.safetensors"
    zero_link.symlink_to("/dev/zero")
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    cases = {fifo: "it is a FIFO (named pipe)", folder: "it is a folder", broken: "a broken link",
             zero_link: "it is a character device", Path("/dev/zero"): "it is a character device",
             sock_path: "it is a socket", tmp_path / "absent": "no such file"}
    try:
        with deadline(10):
            for path, reason in cases.items():
                for check in (check_readable_file, open_regular_file, read_regular_file):
                    with pytest.raises(CheckpointError) as info:
                        check(path, "checkpoint file", error=CheckpointError)
                    one_line(info, f"{path}: cannot read checkpoint file: {reason}")
    finally:
        sock.close()


def test_regular_files_pass_and_size_bound(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abcdef")
    assert check_readable_file(path, "file") == path
    with open_regular_file(path, "file") as handle:
        assert handle.read() == b"abcdef"
    assert read_regular_file(path, "file", max_bytes=6) == b"abcdef"
    with pytest.raises(GenStudioError) as info:
        read_regular_file(path, "file", max_bytes=5)
    one_line(info, f"{path}: cannot read file: it is 6 bytes, more than the 5 bytes this reader accepts")
    with pytest.raises(DataError) as info:
        check_readable_file(str(tmp_path / "a\0b"), "file", error=DataError)
    one_line(info, "the path is not valid")


def test_memory_budget_and_printable():
    assert 0 < budget_bytes()
    check_memory(1024, "small")
    with pytest.raises(DataError) as info:
        check_memory(2**70, "/x: an idx array", error=DataError)
    one_line(info, "/x: an idx array would need 1048576.0 PiB of memory; this process can spare")
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(3) == "3 bytes"
    assert printable(os.fsdecode(b"caf\xe9/\xff.png")) == "caf\\xe9/\\xff.png"
    assert printable("héllo") == "héllo" and printable("a\ud800") == "a\\ud800"


# --- idx files ------------------------------------------------------------------------------------

LABELS3 = idx(0x08, [3], bytes([1, 2, 3]))


@pytest.mark.parametrize("name, images, needle", [
    # 2^22 * 2^21 * 2^21 = 2^64: numpy's int64 product wraps to 0, which matched the empty payload.
    ("overflow", idx(0x08, [2**22, 2**21, 2**21]), "truncated idx file: header says 4194304×2097152×2097152 bytes, found 0"),
    ("zero-by-zero", idx(0x08, [3, 0, 0]), "images of 0×0 pixels hold no pixels"),
    ("zero-width", idx(0x08, [3, 5, 0]), "images of 5×0 pixels hold no pixels"),
    ("no-images", idx(0x08, [0, 28, 28]), "holds no images"),
    ("empty-file", b"", "not an idx file (magic bytes none"),
    ("four-dims", idx(0x08, [3, 2, 2, 1], b"\0" * 12), "expected uint8 images (N, H, W)"),
    ("max-dims", idx(0x08, [2**32 - 1] * 3), "truncated idx file"),
    ("short-header", idx(0x08, [3, 28, 28])[:9], "truncated idx file: header declares 3 dimensions but the file has 9 bytes"),
])
def test_malformed_idx_images(tmp_path, name, images, needle):
    labels = idx(0x08, [0]) if name == "no-images" else LABELS3
    folder = mnist_pair(tmp_path / name, images, labels)
    with pytest.raises(DataError) as info:
        load_idx_folder(folder)
    one_line(info, str(folder), needle)
    # The CLI says the same in one line, exit code 2 (bad input), through the real entry point.
    with pytest.raises(DataError) as again:
        load_dataset(f"idx:{folder}")
    one_line(again, needle)


def test_gzip_idx_is_decompressed_only_as_far_as_the_header_says(tmp_path):
    # 1 GiB of zeros in 64 gzip members (about 1 MB on disk) after a header declaring 3 labels.
    member = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
    bomb = tmp_path / "bomb-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(idx(0x08, [3], b"\1\2\3")) + member * 64)
    started = time.perf_counter()
    with pytest.raises(DataError) as info:
        read_idx(bomb)
    one_line(info, str(bomb), "idx file longer than its header says: header says 3 bytes, found more than 3 bytes")
    assert time.perf_counter() - started < 5          # stopped after a few bytes, not 1 GiB later
    # A header declaring more than this process could hold is refused before decompressing anything.
    huge = tmp_path / "huge-idx3-ubyte.gz"
    huge.write_bytes(gzip.compress(idx(0x08, [2**32 - 1, 2**16, 2**16])))
    with pytest.raises(DataError) as info:
        read_idx(huge)
    one_line(info, f"{huge}: an idx array of 4294967295×65536×65536 uint8 would need 16384.0 PiB of memory; "
                   "this process can spare")


@posix_only
def test_special_idx_files_never_block(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    os.mkfifo(folder / "t10k-images-idx3-ubyte")
    (folder / "t10k-labels-idx1-ubyte").write_bytes(LABELS3)
    with deadline(10), pytest.raises(DataError) as info:
        load_dataset(str(folder))
    one_line(info, "t10k-images-idx3-ubyte: cannot read idx file: it is a FIFO")
    (folder / "t10k-images-idx3-ubyte").unlink()
    (folder / "t10k-images-idx3-ubyte").symlink_to("/dev/zero")
    with deadline(10), pytest.raises(DataError) as info:
        load_dataset(f"idx:{folder}")
    one_line(info, "t10k-images-idx3-ubyte: cannot read idx file: it is a character device")


# --- images ---------------------------------------------------------------------------------------

@posix_only
def test_special_files_in_an_image_folder_are_skipped_unopened(tmp_path):
    folder = tmp_path / "photos"
    good_png(folder / "a.png")
    os.mkfifo(folder / "x.png")
    (folder / "zero.png").symlink_to("/dev/zero")
    (folder / "dir.png").mkdir()                      # a folder named like an image: walked, empty
    with deadline(20):
        ds, report = load_image_folder(folder, size=8)
    assert len(ds) == 1 and report.loaded == 1
    assert sorted((p.name, r) for p, r in report.skipped) == [("x.png", "special files"), ("zero.png", "special files")]
    assert report.summary() == "2 files skipped: special files"
    (folder / "a.png").unlink()
    with deadline(20), pytest.raises(DataError) as info:
        load_dataset(f"folder:{folder}?size=8")
    one_line(info, f"{folder}: no readable images (2 files skipped: special files)")


@pytest.mark.parametrize("name, content, reason", [
    ("bomb.png", png_with_header(100_000, 100_000), "too large"),               # Pillow's own bomb error
    ("big.png", png_with_header(9_500, 9_500), "too large"),                    # over our bound, under Pillow's
    ("zero.png", png_with_header(0, 5), "unreadable"),
    ("truncated.png", None, "unreadable"),
    ("truncated.jpg", None, "unreadable"),
    ("text.png", b"hello, I am not a picture\n", "unreadable"),
    ("empty.jpg", b"", "unreadable"),
    ("notes.txt", b"just text", "not images"),
])
def test_bad_image_files(tmp_path, name, content, reason):
    folder = tmp_path / "set"
    path = folder / name
    folder.mkdir()
    if content is None:                                # the first half of a real image
        good_png(tmp_path / "whole" / name, size=(64, 64), color=(10, 200, 30))
        whole = (tmp_path / "whole" / name).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{folder}?size=8&channels=1")
    one_line(info, f"{folder}: no readable images (1 file skipped: {reason})")
    good_png(folder / "ok.png")
    ds, report = load_image_folder(folder, size=8, channels=1)
    assert len(ds) == 1 and report.skipped == [(path, reason)]
    if name.endswith((".png", ".jpg")):
        with pytest.raises(DataError) as info:
            load_image_as(path, (1, 8, 8))
        message = one_line(info, str(path))
        assert ("larger than the" in message) if reason == "too large" else ("not a readable image" in message)


def test_load_image_as_refuses_special_and_huge_files(tmp_path):
    with pytest.raises(DataError) as info:
        load_image_as(tmp_path, (3, 8, 8))
    one_line(info, f"{tmp_path}: cannot read image: it is a folder")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")
        with deadline(10), pytest.raises(DataError) as info:
            load_image_as(tmp_path / "pipe.png", (3, 8, 8))
        one_line(info, "pipe.png: cannot read image: it is a FIFO")
    assert MAX_IMAGE_PIXELS < 9_500 * 9_500
    sparse = tmp_path / "huge.png"
    with open(sparse, "wb") as handle:                 # 2 GiB of nothing, instantly (sparse)
        handle.truncate(2 << 30)
    with pytest.raises(DataError) as info:
        load_image_as(sparse, (3, 8, 8))
    one_line(info, "huge.png: cannot read image: it is 2.0 GiB, more than the 1.0 GiB this reader accepts")
    folder = tmp_path / "one"
    good_png(folder / "a.png")
    with open(folder / "b.png", "wb") as handle:
        handle.truncate(2 << 30)
    ds, report = load_image_folder(folder, size=8)
    assert len(ds) == 1 and [(p.name, r) for p, r in report.skipped] == [("b.png", "too large")]


# --- folder: specs --------------------------------------------------------------------------------

@pytest.mark.parametrize("query, needle", [
    ("size=0", "size must be 1 to 1024 pixels a side, got '0'"),
    ("size=-3", "size must be 1 to 1024 pixels a side, got '-3'"),
    ("size=99999", "size must be 1 to 1024 pixels a side, got '99999'"),
    ("size=16x0", "size must be 1 to 1024 pixels a side, got '16x0'"),
    ("size=", "size must be N or HxW, got ''"),
    ("size=8x8x8", "size must be N or HxW, got '8x8x8'"),
    ("channels=2", "channels must be 1 (grey) or 3 (RGB), got '2'"),
    ("channels=0", "channels must be 1 (grey) or 3 (RGB), got '0'"),
    ("channels=3.5", "channels must be 1 (grey) or 3 (RGB), got '3.5'"),
    ("colour=red", "unknown folder option 'colour'"),
])
def test_bad_folder_options(tmp_path, query, needle):
    good_png(tmp_path / "imgs" / "a.png")
    spec = f"folder:{tmp_path / 'imgs'}?{query}"
    with pytest.raises(DataError) as info:
        load_dataset(spec)
    one_line(info, spec, needle)


def test_bad_folder_paths(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    for spec, needle in [("folder:", "folder: needs a path"), ("idx:  ", "idx: needs a path"),
                         (f"folder:{tmp_path / 'file.txt'}", "file.txt: not a folder"),
                         (f"folder:{tmp_path / 'empty'}", "empty: folder is empty"),
                         ("folder:~no_such_user_xyz/data", "cannot expand '~'"),
                         (f"folder:{tmp_path}/a\0b", "cannot load this data set"),
                         (f"idx:{tmp_path / 'absent'}", "absent: no such folder")]:
        with pytest.raises(DataError) as info:
            load_dataset(spec)
        one_line(info, needle)


def test_non_utf8_names(tmp_path):
    if sys.platform == "win32" or sys.getfilesystemencoding().lower() != "utf-8":
        pytest.skip("non-UTF-8 file names are a POSIX-with-UTF-8 matter")
    root = tmp_path / "set"
    odd = os.fsdecode(b"caf\xe9")                     # Latin-1 bytes, not valid UTF-8
    good_png(root / odd / "a.png")
    good_png(root / "plain" / os.fsdecode(b"\xff.png"))
    ds, _ = load_image_folder(root, size=8)
    assert len(ds) == 2 and ds.label_names == ["caf\\xe9", "plain"]
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{tmp_path / odd}")
    assert "\n" not in str(info.value)


# --- the command line -----------------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["--lr", "nan"], "argument --lr: a learning rate must be a finite number, got 'nan'"),
    (["--lr", "inf"], "argument --lr: a learning rate must be a finite number, got 'inf'"),
    (["--lr", "-1"], "argument --lr: a learning rate must be positive, got '-1'"),
    (["--lr-g", "0"], "argument --lr-g: a learning rate must be positive, got '0'"),
    (["--batch-size", "-5"], "argument --batch-size: must be at least 1, got -5"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["--steps", "-1"], "argument --steps: must be at least 1, got -1"),
    (["--steps", "ten"], "argument --steps: the value must be a whole number, got 'ten'"),
    (["--autosave-every", "-1"], "argument --autosave-every: must be 0 or more, got -1"),
    (["--seed", "-1"], "argument --seed: the seed must be 0 to 4294967295, got -1"),
    (["--keep", "0"], "argument --keep: must be at least 1, got 0"),
    (["--grad-clip", "nan"], "argument --grad-clip: Gradient clip must be a finite number, got 'nan'"),
])
def test_bad_train_arguments(capsys, argv, needle):
    with pytest.raises(SystemExit) as exited:
        main(["train", *argv, "--device", "cpu"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and err.startswith("genstudio train: error: ") and needle in err, err


def run_cli(capsys, argv) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, err = run_cli(capsys, ["train", "--data", f"folder:{tmp_path / 'empty'}", "--steps", "1", "--device", "cpu"])
    assert code == 2 and err == f"genstudio: error: {tmp_path / 'empty'}: folder is empty\n"
    code, err = run_cli(capsys, ["train", "--data", f"folder:{tmp_path}?size=0", "--steps", "1", "--device", "cpu"])
    assert code == 2 and err.count("\n") == 1 and "size must be 1 to 1024" in err
    (tmp_path / "out-file").write_text("x")
    code, err = run_cli(capsys, ["train", "--data", "ring8", "--steps", "1", "--out", str(tmp_path / "out-file")])
    assert code == 2 and err == f"genstudio: error: {tmp_path / 'out-file'}: --out must be a folder, and this is a file\n"
    # An OSError about a named file (here: --out inside a file) is one line too.
    code, err = run_cli(capsys, ["sample", str(DEMO_GAN), "--grid", "1x1", "--out", str(tmp_path / "out-file" / "g.png")])
    assert code == 2 and err.count("\n") == 1 and "out-file" in err and "Traceback" not in err


@posix_only
def test_resume_from_a_fifo_does_not_block(tmp_path, capsys):
    os.mkfifo(tmp_path / "ck.safetensors")
    with deadline(20):
        code, err = run_cli(capsys, ["train", "--resume", str(tmp_path / "ck.safetensors"), "--steps", "2"])
    assert code == 2 and err == (f"genstudio: error: {tmp_path / 'ck.safetensors'}: cannot read checkpoint file: "
                                 f"it is a FIFO (named pipe), which could block forever\n")


def test_a_bug_still_shows_its_traceback(monkeypatch):
    from genstudio.cli import COMMANDS

    def broken(args):
        raise ZeroDivisionError("a bug, not bad input")

    monkeypatch.setattr(COMMANDS["presets"], "run", broken)
    with pytest.raises(ZeroDivisionError):
        main(["presets"])


def test_errors_print_on_a_strict_ascii_console(tmp_path, monkeypatch):
    """A non-UTF-8 name in a message must not turn into a UnicodeEncodeError traceback."""
    if sys.platform == "win32":
        pytest.skip("non-UTF-8 file names are a POSIX matter")
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    odd = tmp_path / os.fsdecode(b"d\xe9j\xe0-vu")
    odd.mkdir()
    (odd / "notes.txt").write_text("x")
    code = main(["train", "--data", f"folder:{odd}", "--steps", "1", "--device", "cpu"])
    err.flush()
    text = err.buffer.getvalue().decode("ascii")
    assert code == 2 and text.count("\n") == 1
    assert "d\\xe9j\\xe0-vu: no readable images (1 file skipped: not images)" in text


@posix_only
def test_info_image_refuses_special_and_broken_files(tmp_path, capsys):
    """`genstudio info CKPT --image FILE` reads a person's image through load_image_as."""
    flow = resource_path("checkpoints", "flow-mnist.safetensors")
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "half.png").write_bytes(png_with_header(9_500, 9_500))
    for name, reason in (("pipe.png", "cannot read image: it is a FIFO"), ("half.png", "larger than the")):
        with deadline(20):
            code, err = run_cli(capsys, ["info", str(flow), "--image", str(tmp_path / name)])
        assert code == 2 and err.count("\n") == 1 and name in err and reason in err, err


def test_resume_to_a_step_already_reached_names_the_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "ring8", "--preset", "toy", "--steps", "2", "--batch-size", "32", "--device",
                 "cpu", "--quiet", "--autosave-every", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    ckpt = out / "checkpoint.safetensors"
    code, err = run_cli(capsys, ["train", "--resume", str(ckpt), "--steps", "2", "--device", "cpu", "--quiet"])
    assert code == 2 and err == (f"genstudio: error: {ckpt}: already at step 2; --steps is the total step count, "
                                 f"so ask for more than 2\n")
