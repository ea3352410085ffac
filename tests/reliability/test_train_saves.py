"""Training always saves somewhere a person can find, and a save or a resume never goes wrong quietly
(issue 28, cases 6, 7, 8 and 10): a resume without --out goes on in the file's folder, a plain run
saves under runs/, the first and last lines name the checkpoint; SIGTERM saves as Ctrl-C does;
a damaged optimiser state is refused in one line and --lr on a resume is the rate the run uses;
out of memory while saving is one line and keeps the previous checkpoint."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch

from genstudio.cli import main
from genstudio.core.io.checkpoints import load_checkpoint, read_card, read_header, tensor_digest

# The 2-D toy GAN on ring8 trains a step in milliseconds: every run here takes a few seconds.
TOY = ["--data", "ring8", "--device", "cpu", "--quiet"]


def err_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> bytes:
    """The bytes of a toy GAN checkpoint at step 3, with its optimiser state (trained once)."""
    out = tmp_path_factory.mktemp("trained")
    assert main(["train", *TOY, "--steps", "3", "--out", str(out)]) == 0
    return (out / "checkpoint.safetensors").read_bytes()


@pytest.fixture
def toy_checkpoint(trained, tmp_path, capsys) -> Path:
    """That checkpoint as tmp_path/run/checkpoint.safetensors, alone in its run folder."""
    capsys.readouterr()
    path = tmp_path / "run" / "checkpoint.safetensors"
    path.parent.mkdir()
    path.write_bytes(trained)
    return path


def test_resume_without_out_goes_on_in_the_files_folder(toy_checkpoint, capsys):
    assert main(["train", "--resume", str(toy_checkpoint), "--steps", "7", "--quiet"]) == 0
    lines = err_lines(capsys)
    assert read_card(toy_checkpoint).step == 7
    assert str(toy_checkpoint) in lines[0] and lines[-1] == f"checkpoint: {toy_checkpoint}"
    # the replaced step-3 file is kept beside it, as an autosave would be
    assert read_card(toy_checkpoint.with_name("checkpoint-step00000003.safetensors")).step == 3


def test_plain_train_saves_under_the_runs_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *TOY, "--steps", "2"]) == 0
    lines = err_lines(capsys)
    saved = list(tmp_path.glob("runs/gan-toy-*/checkpoint.safetensors"))
    assert len(saved) == 1 and read_card(saved[0]).step == 2
    assert (saved[0].parent / "samples.png").is_file()
    relative = str(saved[0].relative_to(tmp_path))
    assert relative in lines[0] and lines[-1] == f"checkpoint: {relative}"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM,
                                    pytest.param(signal.SIGINT, marks=pytest.mark.long)])  # Ctrl-C: the reference
def test_a_stop_signal_saves_the_step_reached(tmp_path, signum):
    """About 10 s on 2 cores, most of it the subprocess's imports."""
    out = tmp_path / "run"
    ckpt = out / "checkpoint.safetensors"
    process = subprocess.Popen([sys.executable, "-m", "genstudio", "train", *TOY, "--steps", "1000000",
                                "--batch-size", "32", "--autosave-every", "5", "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ckpt.exists():            # the first autosave: the run is stepping
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.05)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    stopped = [line for line in err.splitlines() if line.startswith("stopped at step ")]
    assert stopped, err
    step = int(stopped[0].split()[3])
    assert 5 <= step < 1_000_000 and read_card(ckpt).step == step
    assert err.rstrip().splitlines()[-1] == f"checkpoint: {ckpt}"
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def rewrite(path: Path, edit_header=None, edit_tensors=None) -> None:
    """Rewrite a checkpoint with its header or tensors edited, its digest made to match again (so
    that only the edit is what a loader could object to)."""
    tensors = safetensors.torch.load(path.read_bytes())
    header = read_header(path)
    if edit_tensors:
        edit_tensors(tensors)
    if edit_header:
        edit_header(header)
    header["content_sha256"] = tensor_digest(tensors)
    path.write_bytes(safetensors.torch.save(tensors, metadata={"genstudio": json.dumps(header)}))


def _set_group(key, value):
    def edit(header):
        header["optimizers"]["g"]["param_groups"][0][key] = value
    return edit


def _infinite_moment(tensors):
    tensors["optim/d/0/exp_avg"][0] = float("inf")


@pytest.mark.parametrize("edit_header, edit_tensors, named", [
    (_set_group("lr", "0.001"), None, "lr is '0.001', not a positive number"),
    (_set_group("eps", float("nan")), None, "'eps' is nan, not a finite number"),
    (_set_group("weight_decay", 10**400), None, "'weight_decay' is 1000000"),    # beyond any float
    (_set_group("betas", True), None, "betas True, where a list of 2 belongs"),
    (None, _infinite_moment, "optimiser d's state 0/exp_avg holds NaN or infinite values"),
], ids=["lr-string", "eps-nan", "huge-int", "betas-flag", "inf-moment"])
def test_a_damaged_optimiser_state_is_refused_in_one_line(toy_checkpoint, capsys, edit_header, edit_tensors, named):
    rewrite(toy_checkpoint, edit_header, edit_tensors)
    before = toy_checkpoint.read_bytes()
    assert main(["train", "--resume", str(toy_checkpoint), "--steps", "6", "--quiet"]) == 2
    lines = err_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"genstudio: error: {toy_checkpoint}: ") and named in lines[0]
    assert toy_checkpoint.read_bytes() == before


def test_lr_on_resume_is_the_rate_the_run_uses(toy_checkpoint, capsys):
    assert main(["train", "--resume", str(toy_checkpoint), "--steps", "5", "--quiet", "--lr", "0.0042"]) == 0
    resumed = load_checkpoint(toy_checkpoint)
    # the optimisers' own rates, as they stepped and were saved, and the card's record
    rates = {group["lr"] for state in resumed.optimizer_states.values() for group in state["param_groups"]}
    assert rates == {0.0042}
    assert resumed.card.train["hyper"]["lr_g"] == resumed.card.train["hyper"]["lr_d"] == 0.0042


def test_out_of_memory_while_saving_keeps_the_previous_checkpoint(toy_checkpoint, monkeypatch, capsys):
    before = toy_checkpoint.read_bytes()

    def no_memory(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"the first bytes")     # a write that got some way before it failed
        raise MemoryError

    monkeypatch.setattr(safetensors.torch, "save_file", no_memory)
    assert main(["train", "--resume", str(toy_checkpoint), "--steps", "6", "--quiet"]) == 2
    lines = err_lines(capsys)
    assert len(lines) == 2 and lines[0].startswith("training gan")      # the banner, then the one line
    assert lines[1] == (f"genstudio: error: {toy_checkpoint}: out of memory while saving the checkpoint; "
                        f"the previous checkpoint there is kept")
    assert toy_checkpoint.read_bytes() == before and load_checkpoint(toy_checkpoint).step == 3
    assert not [p for p in toy_checkpoint.parent.iterdir() if p.name.endswith(".tmp")]
