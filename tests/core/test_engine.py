"""The training engine on the real MNIST test set: each family learns, stop/pause work, resume is exact,
NaN stops training and keeps the last good checkpoint, and an absent device is refused clearly."""

import math
import threading

import numpy as np
import pytest
import torch

from diverging import report_nan_after  # tests/core is on sys.path (no package)

from genstudio.core.data import InMemoryDataset
from genstudio.core.errors import DeviceError, TrainingError
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.registry import build_model
from genstudio.core.training.engine import TrainConfig, Trainer


def run_all(trainer):
    return list(trainer.run())


def step_scalars(reports, key):
    return [r.scalars[key] for r in reports if r.kind == "step" and key in r.scalars]


# family, preset, steps, figure, direction: the figure's mean over the last reports must beat the first.
LEARNING = [
    ("gan", "mlp", 60, "d_loss", "down"),       # D quickly learns to tell digits from noise
    ("vae", "mlp", 60, "elbo", "up"),
    ("flow", "realnvp", 30, "bits_per_dim", "down"),
]


@pytest.mark.parametrize("family,preset,steps,key,direction", LEARNING)
def test_each_family_learns_on_real_mnist(mnist, family, preset, steps, key, direction):
    config = TrainConfig(family=family, preset=preset, steps=steps, report_every=5, sample_every_s=0,
                         n_samples=16, device="cpu")
    reports = run_all(Trainer(config, dataset=mnist))
    values = step_scalars(reports, key)
    assert len(values) == steps // 5
    assert all(math.isfinite(v) for v in values)
    first, last = values[0], float(np.mean(values[-3:]))
    if direction == "down":
        assert last < first, (first, last)
    else:
        assert last > first, (first, last)
    assert reports[-1].kind == "finished" and reports[-1].step == steps
    samples = [r.samples for r in reports if r.kind == "samples"]
    assert samples[-1].shape == (16, 1, 28, 28)
    assert samples[-1].min() >= 0 and samples[-1].max() <= 1
    assert not np.array_equal(samples[0], samples[-1])  # the samples changed as the model learned
    if family != "gan":  # likelihood models evaluate on a fixed data slice with each sample report
        assert reports[-2].scalars


def test_gan_reports_d_g_losses_and_probabilities(mnist):
    config = TrainConfig(family="gan", preset="mlp", steps=10, report_every=10, sample_every_s=0, device="cpu")
    step = [r for r in run_all(Trainer(config, dataset=mnist)) if r.kind == "step"][0]
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(step.scalars)
    assert 0 <= step.scalars["d_fake"] < step.scalars["d_real"] <= 1
    assert step.images_per_sec > 0


def test_wgan_gp_reports_gradient_penalty(mnist):
    config = TrainConfig(family="gan", preset="wgan-gp", steps=5, report_every=5, sample_every_s=0, device="cpu",
                         model={"g_channels": 16, "d_channels": 16})
    step = [r for r in run_all(Trainer(config, dataset=mnist)) if r.kind == "step"][0]
    assert math.isfinite(step.scalars["gradient_penalty"]) and step.scalars["gradient_penalty"] > 0
    assert "g_loss" in step.scalars  # the 5th D step is followed by a G step


class QuadraticCritic(torch.nn.Module):
    """D(x) = sum_i c_i x_i^2 / 2, so grad_x D = c * x: a critic whose gradient is known by hand.
    Keeps the interpolates it is asked about (the only inputs that are leaves needing a gradient;
    G's fakes carry G's graph)."""

    def __init__(self, c):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(c))
        self.interpolates = []

    def forward(self, x, y=None):
        if x.is_leaf and x.requires_grad:
            self.interpolates.append(x.detach().clone())
        return 0.5 * (self.c * x.pow(2)).sum(1)


def test_gradient_penalty_matches_a_hand_computation():
    # WGAN-GP (Gulrajani et al. 2017): mean over the batch of (||grad_x D(x_hat)||_2 - 1)^2, one
    # norm per sample. With grad D = c * x_hat that is mean_b (sqrt(sum_i (c_i x_hat_bi)^2) - 1)^2.
    torch.manual_seed(0)
    gan = build_model("gan", {"data_shape": [2], "arch": "mlp", "latent_dim": 2, "g_hidden": [8], "d_hidden": [8],
                              "dropout": 0.0, "loss": "wgan-gp", "gp_weight": 10.0, "d_steps": 1})
    critic = gan.discriminator = QuadraticCritic([3.0, 0.5])
    optimizers = gan.make_optimizers({"lr_g": 1e-3, "lr_d": 1e-3})
    real = torch.randn(64, 2) * 2
    out = gan.train_step(real, None, optimizers)
    x_hat, = critic.interpolates
    expected = ((torch.tensor([3.0, 0.5]) * x_hat).norm(dim=1) - 1).pow(2).mean()
    assert out["gradient_penalty"] == pytest.approx(float(expected), rel=1e-5)
    assert float(expected) > 1.0             # far from 1-Lipschitz: a penalty that could not be mistaken for 0
    # x_hat lies between each real point and its fake (alpha in [0, 1]): it is an interpolate.
    assert x_hat.shape == real.shape and not torch.equal(x_hat, real)


def test_vae_reports_kl_per_dimension(mnist):
    config = TrainConfig(family="vae", preset="map", steps=10, report_every=10, sample_every_s=0, device="cpu")
    step = [r for r in run_all(Trainer(config, dataset=mnist)) if r.kind == "step"][0]
    assert len(step.vectors["kl_per_dim"]) == 2
    assert step.scalars["kl"] == pytest.approx(sum(step.vectors["kl_per_dim"]), rel=1e-4)
    assert step.scalars["elbo"] == pytest.approx(-(step.scalars["recon"] + step.scalars["kl"]), rel=1e-4)


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("family,preset,overrides", [
    ("gan", "mlp", {}),
    ("gan", "dcgan-hinge-sn", {"g_channels": 8, "d_channels": 8}),   # batch norm, SN vectors, EMA
    ("gan", "dcgan-hinge-sn-conditional", {"g_channels": 8, "d_channels": 8}),   # + labels drawn for fakes
    ("vae", "conv", {"channels": 8}),
    ("flow", "realnvp", {"hidden_channels": 8}),          # resume restores state whatever the width
])
def test_resume_is_exact(mnist, tmp_path, family, preset, overrides):
    """N+M steps in one go == N steps, save, resume in a new Trainer, M more steps."""
    n, m = 6, 5
    base = dict(family=family, preset=preset, report_every=3, sample_every_s=0, n_samples=4, device="cpu",
                model=overrides, seed=3, batch_size=32)
    straight = Trainer(TrainConfig(steps=n + m, **base), dataset=mnist)
    run_all(straight)

    first = Trainer(TrainConfig(steps=n, out_dir=str(tmp_path), **base), dataset=mnist)
    run_all(first)
    torch.manual_seed(12345)  # disturb the global RNG: resume must restore it
    resumed = Trainer(TrainConfig(steps=n + m, **base), dataset=mnist, resume=tmp_path / "checkpoint.safetensors")
    assert resumed.step == n
    reports = run_all(resumed)
    assert reports[-1].step == n + m
    a, b = weights(straight.model), weights(resumed.model)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_stop_from_another_thread_saves(mnist, tmp_path):
    config = TrainConfig(family="vae", preset="mlp", steps=100_000, report_every=1, sample_every_s=0,
                         out_dir=str(tmp_path), device="cpu", autosave_every=0)
    trainer = Trainer(config, dataset=mnist)
    reports = []
    for report in trainer.run():
        reports.append(report)
        if report.kind == "step" and report.step >= 5:
            threading.Thread(target=trainer.stop).start()
    assert reports[-1].kind == "stopped"
    assert reports[-1].step < 100
    saved = load_checkpoint(reports[-1].path)
    assert saved.step == reports[-1].step


def test_pause_then_resume(mnist):
    config = TrainConfig(family="vae", preset="map", steps=40, report_every=2, sample_every_s=0, device="cpu")
    trainer = Trainer(config, dataset=mnist)
    kinds = []
    resumer = None
    for report in trainer.run():
        kinds.append(report.kind)
        if report.kind == "step" and report.step == 10:
            trainer.pause()
        if report.kind == "paused":
            step_at_pause = report.step
            resumer = threading.Timer(0.05, trainer.resume)
            resumer.start()
    assert "paused" in kinds and "resumed" in kinds
    assert step_at_pause == 10
    assert kinds[-1] == "finished"


def test_stop_while_paused(mnist):
    config = TrainConfig(family="vae", preset="map", steps=40, report_every=2, sample_every_s=0, device="cpu")
    trainer = Trainer(config, dataset=mnist)
    kinds = []
    for report in trainer.run():
        kinds.append(report.kind)
        if report.kind == "step" and report.step == 4:
            trainer.pause()
        if report.kind == "paused":
            threading.Timer(0.05, trainer.stop).start()
    assert kinds[-1] == "stopped"
    assert "resumed" not in kinds


def test_nan_loss_stops_and_keeps_last_good_checkpoint(mnist, tmp_path):
    config = TrainConfig(family="vae", preset="map", steps=50, report_every=5, autosave_every=10,
                         sample_every_s=0, out_dir=str(tmp_path), device="cpu")
    trainer = Trainer(config, dataset=mnist)
    report_nan_after(trainer, 23, "loss")       # steps 24.. report NaN
    reports = run_all(trainer)
    last = reports[-1]
    assert last.kind == "diverged"
    assert "NaN" in last.message and "loss" in last.message and str(tmp_path) in last.message
    kept = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert kept.step == 20  # the autosave before the NaN, not overwritten
    for value in kept.model.state_dict().values():
        assert torch.isfinite(value.float()).all()


def test_absent_cuda_is_refused_with_a_clear_message(mnist):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="cuda.*not available"):
        Trainer(TrainConfig(device="cuda"), dataset=mnist)


def test_conditional_preset_needs_labels():
    from genstudio.core.data.dataset import InMemoryDataset
    from genstudio.core.data.toy import load_toy

    ring = load_toy("ring8", n=512)
    unlabelled = InMemoryDataset("digits", torch.zeros(64, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(TrainingError, match="class-conditional"):
        Trainer(TrainConfig(family="gan", preset="mlp-conditional", device="cpu"), dataset=unlabelled)
    # 2-D points pick the family's point preset by default and train.
    reports = run_all(Trainer(TrainConfig(family="gan", steps=20, sample_every_s=0, device="cpu"), dataset=ring))
    assert reports[-1].kind == "finished"
    assert reports[-2].samples.shape == (64, 2)


def test_conditional_gan_trains(mnist):
    config = TrainConfig(family="gan", preset="mlp-conditional", steps=10, report_every=10, sample_every_s=0,
                         n_samples=10, device="cpu")
    trainer = Trainer(config, dataset=mnist)
    reports = run_all(trainer)
    assert trainer.model.num_classes == 10
    assert reports[-2].samples.shape == (10, 1, 28, 28)


def test_already_finished_checkpoint_cannot_go_on(mnist, tmp_path):
    config = TrainConfig(family="vae", preset="map", steps=5, sample_every_s=0, out_dir=str(tmp_path), device="cpu")
    run_all(Trainer(config, dataset=mnist))
    again = Trainer(config, dataset=mnist, resume=tmp_path / "checkpoint.safetensors")
    with pytest.raises(TrainingError, match="already at step 5"):
        run_all(again)


def test_weights_that_overflow_are_never_saved_as_good(mnist, tmp_path):
    """Autosave every step; from step 7 the weights are blown up (finite, ~1e30) so they decode to
    NaN: the save is refused and the run names step 6's file, which is good, as the last good one."""
    config = TrainConfig(family="vae", preset="map", steps=30, report_every=1, autosave_every=1,
                         sample_every_s=0, out_dir=str(tmp_path), device="cpu")
    trainer = Trainer(config, dataset=mnist)
    real_step = trainer.model.train_step

    def blown_up(x, y, opts):
        out = real_step(x, y, opts)
        if trainer.step == 6:                       # the step being taken is the 7th
            with torch.no_grad():
                for p in trainer.model.decoder.parameters():
                    p.mul_(1e30)
        return out

    trainer.model.train_step = blown_up
    last = run_all(trainer)[-1]
    assert last.kind == "diverged" and "decode to NaN/Inf" in last.message
    assert last.message.endswith(f"the last good checkpoint is {tmp_path / 'checkpoint.safetensors'}")
    kept = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert kept.step == 6
    with torch.no_grad():
        assert torch.isfinite(kept.model.eval().decode(torch.randn(8, 2))).all()


def test_autosave_keeps_the_last_k(mnist, tmp_path):
    config = TrainConfig(family="vae", preset="map", steps=10, report_every=2, autosave_every=2,
                         keep_checkpoints=3, sample_every_s=0, out_dir=str(tmp_path), device="cpu")
    run_all(Trainer(config, dataset=mnist))
    names = sorted(p.name for p in tmp_path.glob("checkpoint*"))     # beside the run folder's log
    assert names == ["checkpoint-step00000006.safetensors", "checkpoint-step00000008.safetensors",
                     "checkpoint.safetensors"]
    assert [load_checkpoint(tmp_path / n).step for n in names] == [6, 8, 10]
    # Resuming goes on from the latest and keeps rotating.
    config.steps = 12
    run_all(Trainer(config, dataset=mnist, resume=tmp_path / "checkpoint.safetensors"))
    assert sorted(p.name for p in tmp_path.glob("checkpoint*"))[:2] == ["checkpoint-step00000008.safetensors",
                                                             "checkpoint-step00000010.safetensors"]


def test_temp_files_of_a_killed_save_are_cleaned_up(mnist, tmp_path):
    import subprocess

    config = TrainConfig(family="vae", preset="map", steps=2, sample_every_s=0, out_dir=str(tmp_path), device="cpu")
    run_all(Trainer(config, dataset=mnist))
    gone = subprocess.Popen(["true"])
    gone.wait()                                     # a pid whose process has ended
    litter = tmp_path / f".checkpoint.safetensors.{gone.pid}.abc123.tmp"
    litter.write_bytes(b"half a checkpoint")
    load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert not litter.exists()
    litter.write_bytes(b"half a checkpoint")
    config.steps = 4
    run_all(Trainer(config, dataset=mnist, resume=tmp_path / "checkpoint.safetensors"))
    assert not litter.exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_eval_figures_come_from_data_training_never_draws(mnist):
    """The 'eval/' slice is held out: no training batch of a whole epoch touches it, and every other
    sample is drawn; a data set too small to hold anything out trains on all of it and reports none."""
    trainer = Trainer(TrainConfig(family="vae", preset="mlp", steps=1, eval_batch=1000), dataset=mnist)
    per_epoch = (len(mnist) - 1000) // trainer.batch_size
    drawn = torch.cat([trainer._batch_index(step) for step in range(per_epoch)])
    held = set(trainer.eval_index.tolist())
    assert len(held) == 1000 and held.isdisjoint(drawn.tolist())
    assert len(set(drawn.tolist())) == len(drawn) >= len(mnist) - 1000 - trainer.batch_size
    figures = trainer.evaluate()
    assert figures and all(key.startswith("eval/") and math.isfinite(v) for key, v in figures.items())
    tiny = InMemoryDataset("tiny", mnist.data[:4], mnist.labels[:4], list(mnist.label_names))
    small = Trainer(TrainConfig(family="vae", preset="mlp", steps=1), dataset=tiny)
    assert len(small.eval_index) == 0 and small.evaluate() == {}
    assert sorted(small._batch_index(0).tolist()) == [0, 1, 2, 3]
