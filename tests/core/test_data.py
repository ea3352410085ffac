"""Data loaders: bundled MNIST, idx files, torchvision sets (offline), image folders, 2-D toys, specs."""

from __future__ import annotations

import gzip
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.core.data import SPEC_HELP, InMemoryDataset, load_dataset
from genstudio.core.data.bundled import load_bundled_mnist
from genstudio.core.data.idx import has_idx_files, load_idx_folder, read_idx
from genstudio.core.data.image_folder import load_image_folder
from genstudio.core.data.torchvision_sets import load_torchvision
from genstudio.core.data.toy import GRID25, RING8, load_toy
from genstudio.core.errors import DataError
from genstudio.core.runtime.resources import resource_path

MNIST_DIR = resource_path("data", "mnist")
# Per-digit counts of the MNIST test set.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array: np.ndarray) -> bytes:
    """An idx file's bytes for `array` (uint8 or int32), big-endian as the format requires."""
    code = {np.dtype("u1"): 0x08, np.dtype("i4"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    return path


def write_mnist_split(folder: Path, prefix: str, n: int, n_labels: int | None = None, gz: bool = False):
    """Tiny MNIST-layout pair: image k is filled with value k, label k % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    images = np.repeat(np.arange(n, dtype=np.uint8), 28 * 28).reshape(n, 28, 28)
    labels = (np.arange(n if n_labels is None else n_labels) % 10).astype(np.uint8)
    ext = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images, gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels, gz)


def write_png(path: Path, size=(20, 12), color=(255, 0, 0), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


@pytest.fixture(scope="module")
def mnist() -> InMemoryDataset:
    return load_bundled_mnist()


# --- bundled MNIST ------------------------------------------------------------------------------

def test_bundled_mnist_shapes_and_labels(mnist):
    assert mnist.name == "mnist"
    assert len(mnist) == 10000
    assert mnist.data.shape == (10000, 1, 28, 28) and mnist.data.dtype == torch.uint8
    assert mnist.shape == (1, 28, 28)
    assert mnist.labels.dtype == torch.int64
    assert mnist.labels.bincount().tolist() == MNIST_TEST_COUNTS
    assert mnist.label_names == [str(i) for i in range(10)] and mnist.num_classes == 10
    # The first test digit is a 7, the second a 2 (the well-known start of t10k).
    assert mnist.labels[:2].tolist() == [7, 2]


def test_bundled_mnist_batch_is_float_in_unit_range(mnist):
    x, y = mnist.batch(torch.arange(256))
    assert x.dtype == torch.float32 and x.shape == (256, 1, 28, 28)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert torch.equal(y, mnist.labels[:256])


# --- idx reader ---------------------------------------------------------------------------------

def test_read_idx_decodes_big_endian_and_picks_gzip_by_magic(tmp_path):
    values = np.arange(-3, 9, dtype=np.int32).reshape(3, 4)
    # Compressed under a plain name, raw under a .gz name: the content decides, not the name.
    a = read_idx(write_idx(tmp_path / "values-idx2-int", values, gz=True))
    b = read_idx(write_idx(tmp_path / "values-idx2-int.gz", values, gz=False))
    for array in (a, b):
        assert array.dtype == np.int32 and array.dtype.isnative and array.flags.writeable
        np.testing.assert_array_equal(array, values)


def test_read_idx_truncated_payload_names_file_and_sizes(tmp_path):
    raw = gzip.decompress((MNIST_DIR / "t10k-images-idx3-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(raw[: 16 + 1234], compresslevel=1))
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "\n" not in message
    assert "truncated idx file: header says 10000×28×28 bytes, found 1234" in message


def test_read_idx_truncated_gzip_stream(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes((MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()[:2000])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: truncated gzip stream"):
        read_idx(path)


def test_read_idx_header_disagreeing_with_payload(tmp_path):
    raw = bytearray(gzip.decompress((MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[4:8] = (10001).to_bytes(4, "big")              # header claims one label more than stored
    path = tmp_path / "bad-labels-idx1-ubyte"
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bad-labels-idx1-ubyte: truncated idx file: header says 10001 bytes, found 10000"):
        read_idx(path)
    raw[4:8] = (9999).to_bytes(4, "big")               # ... or one fewer
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bad-labels-idx1-ubyte: idx file longer than its header says"):
        read_idx(path)


def test_read_idx_foreign_and_unknown_dtype(tmp_path):
    png = tmp_path / "picture.png"
    write_png(png)
    with pytest.raises(DataError, match=r"picture\.png: not an idx file \(magic bytes 89 50 4e 47"):
        read_idx(png)
    odd = tmp_path / "odd-idx1"
    odd.write_bytes(bytes([0, 0, 0x07, 1]) + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match=r"odd-idx1: not an idx file \(unknown dtype code 0x07\)"):
        read_idx(odd)
    with pytest.raises(DataError, match=r"nowhere-idx1: cannot read idx file"):
        read_idx(tmp_path / "nowhere-idx1")


# --- MNIST-layout folders -----------------------------------------------------------------------

def test_idx_folder_splits(tmp_path):
    write_mnist_split(tmp_path, "train", 6, gz=True)
    write_mnist_split(tmp_path, "t10k", 4)
    assert has_idx_files(tmp_path)
    both = load_idx_folder(tmp_path)
    assert both.data.shape == (10, 1, 28, 28) and both.data.dtype == torch.uint8
    assert both.labels.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]       # train first, then test
    assert both.label_names == [str(i) for i in range(10)]
    test = load_idx_folder(tmp_path, split="test")
    assert len(test) == 4 and int(test.data[3].max()) == 3
    assert len(load_idx_folder(tmp_path, split="train")) == 6


def test_idx_folder_missing_split_empty_and_missing_folder(tmp_path):
    write_mnist_split(tmp_path / "only-test", "t10k", 3)
    with pytest.raises(DataError, match=r"only-test: no idx files \(looked for train-images-idx3-ubyte\[\.gz\], "
                                        r"train-labels-idx1-ubyte\[\.gz\]\)"):
        load_idx_folder(tmp_path / "only-test", split="train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no idx files \(looked for train-images.*t10k-labels-idx1-ubyte\[\.gz\]\)"):
        load_idx_folder(tmp_path / "empty")
    with pytest.raises(DataError, match=r"absent: no such folder \(looked for train-images-idx3-ubyte"):
        load_idx_folder(tmp_path / "absent")
    assert not has_idx_files(tmp_path / "empty")


def test_idx_folder_count_mismatch_names_both_files(tmp_path):
    write_mnist_split(tmp_path, "t10k", 5, n_labels=4)
    with pytest.raises(DataError) as info:
        load_idx_folder(tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "5 images" in message and "4 labels" in message


def test_idx_folder_images_without_labels(tmp_path):
    write_mnist_split(tmp_path, "t10k", 3)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: found without its partner .*t10k-labels-idx1-ubyte"):
        load_idx_folder(tmp_path)


# --- torchvision (offline) ----------------------------------------------------------------------

def test_torchvision_missing_files_says_where_to_put_them(tmp_path):
    with pytest.raises(DataError) as info:
        load_torchvision("fashionmnist", tmp_path / "root")
    message = str(info.value)
    assert str(tmp_path / "root" / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "--download" in message and "\n" not in message
    assert not (tmp_path / "root").exists()                           # nothing created offline

    with pytest.raises(DataError, match=r"cifar-10-batches-py.*data_batch_1.*--download"):
        load_torchvision("CIFAR-10", tmp_path)


def test_torchvision_mnist_from_local_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_split(raw, "train", 6)
    write_mnist_split(raw, "t10k", 4)
    train = load_torchvision("mnist", tmp_path)
    assert train.data.shape == (6, 1, 28, 28) and train.data.dtype == torch.uint8
    assert train.labels.tolist() == [0, 1, 2, 3, 4, 5] and train.labels.dtype == torch.int64
    assert train.label_names[0] == "0 - zero" and len(train.label_names) == 10
    assert len(load_torchvision("mnist", tmp_path, train=False)) == 4
    # A corrupt file: torchvision would only fail an assert; the error names the file and the problem.
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"raw[/\\]t10k-images-idx3-ubyte: not an idx file"):
        load_torchvision("mnist", tmp_path, train=False)


# --- image folders ------------------------------------------------------------------------------

def test_image_folder_with_subfolders(tmp_path, caplog):
    write_png(tmp_path / "dogs" / "a.png", (40, 20), (255, 0, 0))
    write_png(tmp_path / "dogs" / "deeper" / "b.jpg", (17, 33), (0, 255, 0))
    write_png(tmp_path / "cats" / "c.png", (8, 8), 128, mode="L")
    write_png(tmp_path / "cats" / "d.png", (10, 10), (0, 0, 255, 0), mode="RGBA")   # fully transparent
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.txt").write_text("ignored")

    with caplog.at_level(logging.WARNING, logger="genstudio.core.data.image_folder"):
        ds, report = load_image_folder(tmp_path, size=16)
    assert ds.data.shape == (4, 3, 16, 16) and ds.data.dtype == torch.uint8
    assert ds.label_names == ["cats", "dogs"]
    assert ds.labels.tolist() == [0, 0, 1, 1]                        # cats/c, cats/d, dogs/a, dogs/deeper/b
    assert report.loaded == 4 and report.skipped_count == 2
    assert {(p.name, r) for p, r in report.skipped} == {("notes.txt", "not images"), ("broken.png", "unreadable")}
    assert report.summary() == "2 files skipped: 1 not images, 1 unreadable"
    assert "2 files skipped" in caplog.text
    assert ds.data[0].float().mean().round() == 128                   # grey 128 -> RGB (128, 128, 128)
    assert ds.data[1].amin().item() == 255                            # transparent -> white, not black
    assert ds.data[2, :, 8, 8].tolist() == [255, 0, 0]                # red stays red after crop + resize


def test_image_folder_grey_non_square_unlabelled(tmp_path):
    for i in range(3):
        write_png(tmp_path / f"{i}.png", (30, 30), (i * 100, 0, 0))
    write_png(tmp_path / "sub" / "x.png")                             # mixed layout -> unlabelled
    ds, report = load_image_folder(tmp_path, size=(12, 20), channels=1)
    assert ds.data.shape == (4, 1, 12, 20)
    assert ds.labels is None and ds.label_names == [] and report.skipped_count == 0


def test_image_folder_errors(tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    for name in ("a.txt", "b.csv", "c.json"):
        (junk / name).write_text("x")
    with pytest.raises(DataError, match=r"junk: no readable images \(3 files skipped: not images\)$"):
        load_image_folder(junk)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: folder is empty"):
        load_image_folder(tmp_path / "empty")
    with pytest.raises(DataError, match=r"absent: no such folder"):
        load_image_folder(tmp_path / "absent")
    with pytest.raises(DataError, match=r"channels must be 1 \(grey\) or 3 \(RGB\), got 2"):
        load_image_folder(junk, channels=2)


# --- 2-D toys -----------------------------------------------------------------------------------

def test_ring8_centres_and_samples():
    centres = RING8.centres
    assert centres.shape == (8, 2) and RING8.std == 0.01
    assert len({tuple(c) for c in centres.round(decimals=6).tolist()}) == 8   # linspace(0, 2π, 8) gives 7
    torch.testing.assert_close(centres.norm(dim=1), torch.ones(8))
    angles = torch.tensor([2 * math.pi * i / 8 for i in range(8)])
    torch.testing.assert_close(centres, torch.stack([angles.cos(), angles.sin()], 1))

    ds = load_toy("ring8", n=5000, seed=3)
    assert ds.data.shape == (5000, 2) and ds.data.dtype == torch.float32 and ds.is_points
    distances = torch.cdist(ds.data, centres)                             # (N, 8)
    nearest = distances.argmin(1)
    assert float(distances.min(1).values.max()) < 6 * RING8.std
    assert torch.equal(nearest, ds.labels)
    assert ds.labels.bincount(minlength=8).min() > 500                   # every mode drawn
    assert ds.label_names[0] == "mode 0" and ds.num_classes == 8
    assert torch.equal(load_toy("ring8", n=5000, seed=3).data, ds.data)  # seeded


def test_grid25_centres_and_default_size():
    centres = GRID25.centres
    assert centres.shape == (25, 2) and GRID25.std == 0.05
    assert {tuple(c) for c in centres.tolist()} == {(x, y) for x in (-4., -2., 0., 2., 4.) for y in (-4., -2., 0., 2., 4.)}
    ds = load_toy("grid25")
    assert len(ds) == 100_000 and ds.name == "grid25" and ds.num_classes == 25
    distances = torch.cdist(ds.data, centres)
    assert float(distances.min(1).values.max()) < 6 * GRID25.std
    assert torch.equal(distances.argmin(1), ds.labels)


# --- specs --------------------------------------------------------------------------------------

def test_spec_keywords():
    mnist = load_dataset(" MNIST ")
    assert len(mnist) == 10000 and mnist.source == "mnist"
    ring = load_dataset("ring8")
    assert ring.name == "ring8" and ring.shape == (2,) and len(ring) == 100_000
    assert load_dataset("grid25").num_classes == 25


def test_spec_torchvision_forms(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))   # default root: the user data folder's datasets/
    with pytest.raises(DataError, match=str(tmp_path / "data" / "genstudio" / "datasets" / "cifar-10-batches-py")):
        load_dataset("torchvision:cifar10")
    with pytest.raises(DataError, match=r"unknown torchvision data set 'svhn'"):
        load_dataset(f"torchvision:svhn:{tmp_path}")

    write_mnist_split(tmp_path / "MNIST" / "raw", "train", 6)
    write_mnist_split(tmp_path / "MNIST" / "raw", "t10k", 4)
    train = load_dataset(f"torchvision:mnist:{tmp_path}")
    test = load_dataset(f"torchvision:MNIST:{tmp_path}:test")
    assert (len(train), len(test)) == (6, 4)
    assert test.source == f"torchvision:mnist:{tmp_path.resolve()}:test"
    assert len(load_dataset(test.source)) == 4                        # the source reloads the same set


def test_spec_folder_idx_and_bare_paths(tmp_path):
    images = tmp_path / "images"
    write_png(images / "a" / "1.png")
    write_png(images / "b" / "2.png")
    ds = load_dataset(f"folder:{images}?size=8&channels=1")
    assert ds.data.shape == (2, 1, 8, 8) and ds.label_names == ["a", "b"]
    assert ds.source == f"folder:{images.resolve()}?size=8&channels=1"
    assert load_dataset(ds.source).data.shape == (2, 1, 8, 8)
    assert load_dataset(f"folder:{images}?size=6x10").data.shape == (2, 3, 6, 10)
    assert load_dataset(str(images)).data.shape == (2, 3, 64, 64)     # bare path, no idx -> images
    with pytest.raises(DataError, match=r"unknown folder option 'colour'"):
        load_dataset(f"folder:{images}?colour=1")
    with pytest.raises(DataError, match=r"size must be N or HxW, got 'big'"):
        load_dataset(f"folder:{images}?size=big")

    digits = tmp_path / "digits"
    write_mnist_split(digits, "t10k", 4, gz=True)
    assert load_dataset(f"idx:{digits}").data.shape == (4, 1, 28, 28)
    bare = load_dataset(str(digits))                                  # bare path with idx files
    assert bare.data.shape == (4, 1, 28, 28) and bare.source == f"idx:{digits.resolve()}"


def test_spec_unknown_lists_valid_forms(tmp_path):
    for spec in ("cifar100", str(tmp_path / "nowhere"), ""):
        with pytest.raises(DataError) as info:
            load_dataset(spec)
        message = str(info.value)
        assert "unknown data set" in message and "\n" not in message
        for form in ("mnist", "ring8", "grid25", "torchvision:NAME[:ROOT][:test]",
                     "folder:PATH[?size=N&channels=C]", "idx:PATH"):
            assert form in message
    assert "torchvision:NAME" in SPEC_HELP and "folder:PATH" in SPEC_HELP


def test_spec_slices_rows_and_keeps_a_reloadable_source(tmp_path):
    whole = load_dataset("mnist")
    train, held = load_dataset("mnist[:9000]"), load_dataset("mnist[-1000:]")
    assert (len(train), len(held)) == (9000, 1000)
    assert torch.equal(held.data, whole.data[9000:]) and torch.equal(held.labels, whole.labels[9000:])
    assert held.source == "mnist[9000:10000]"
    assert torch.equal(load_dataset(held.source).data, held.data)         # a checkpoint's source reloads it
    # a slice of a slice, and a folder whose name merely ends in brackets is still a folder
    assert torch.equal(load_dataset("mnist[100:200][10:20]").data, whole.data[110:120])
    odd = tmp_path / "scans[1:2]"
    odd.mkdir()
    Image.new("L", (8, 8), 200).save(odd / "a.png")
    assert len(load_dataset(str(odd))) == 1
    for spec, reason in (("mnist[10000:]", "holds none of the 10000 samples"), ("mnist[5:5]", "holds none"),
                         ("nowhere[:3]", "unknown data set")):
        with pytest.raises(DataError) as info:
            load_dataset(spec)
        assert reason in str(info.value) and "\n" not in str(info.value)
