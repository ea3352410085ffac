"""The genstudio command end to end: train, info, sample, resume, and one-line errors."""

import subprocess
import sys

import pytest
from PIL import Image

from genstudio.cli import main


def test_train_info_sample_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--family", "vae", "--preset", "map", "--steps", "12", "--out", str(out),
                 "--device", "cpu", "--quiet"]) == 0
    ckpt = out / "checkpoint.safetensors"
    assert ckpt.exists() and (out / "samples.png").exists()
    assert "finished 12 steps" in capsys.readouterr().err

    assert main(["info", str(ckpt)]) == 0
    info = capsys.readouterr().out
    assert "vae" in info and "map" in info and "step              12" in info

    grid = tmp_path / "grid.png"
    assert main(["sample", str(ckpt), "--grid", "3x5", "--seed", "7", "--out", str(grid)]) == 0
    with Image.open(grid) as im:
        assert im.size == (5 * 30 + 2, 3 * 30 + 2)
    again = tmp_path / "again.png"
    main(["sample", str(ckpt), "--grid", "3x5", "--seed", "7", "--out", str(again)])
    assert grid.read_bytes() == again.read_bytes()  # a seed reproduces a grid

    assert main(["train", "--resume", str(ckpt), "--steps", "20", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    main(["info", str(ckpt)])
    assert "step              20" in capsys.readouterr().out


def test_bad_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"hello, not a checkpoint at all")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and err.startswith("genstudio: error:")


def test_missing_device_and_data(tmp_path, capsys):
    import torch
    if not torch.cuda.is_available():
        assert main(["train", "--device", "cuda", "--steps", "1"]) == 2
        assert "cuda" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--data", f"folder:{empty}", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and err.count("\n") == 1


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "genstudio", "presets"], capture_output=True, text=True)
    assert result.returncode == 0 and "realnvp" in result.stdout


def test_train_sets_model_fields_and_refuses_bad_ones(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--family", "gan", "--preset", "dcgan-hinge-sn", "--steps", "2", "--out", str(out),
                 "--device", "cpu", "--quiet", "--model", "g_channels=8", "--model", "d_channels=8",
                 "--model", "latent_dim=12", "--model", "d_augment=translation-cutout"]) == 0
    capsys.readouterr()
    assert main(["info", str(out / "checkpoint.safetensors")]) == 0
    info = capsys.readouterr().out
    assert '"latent_dim": 12' in info and '"d_augment": "translation-cutout"' in info and '"g_channels": 8' in info

    assert main(["train", "--family", "gan", "--steps", "1", "--model", "wings=2", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown config fields wings" in err and "latent_dim" in err
    assert main(["train", "--family", "gan", "--steps", "1", "--model", "d_augment=sideways", "--device", "cpu"]) == 2
    assert "d_augment 'sideways'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "latent_dim"])
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["train", "--resume", str(out / "checkpoint.safetensors"), "--steps", "4",
                 "--model", "latent_dim=3"]) == 2
    assert "cannot change a checkpoint's architecture" in capsys.readouterr().err
