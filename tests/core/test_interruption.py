"""A stop inside model work (core/training/interruption.py): a train step abandoned before its first
optimiser step leaves the model exactly as the last finished step left it (weights, batch-norm
statistics, counters, optimiser states, RNG), so a resume from it is exact; a stop after an optimiser
step lets the step finish; a stopped run reports its phases and saves the last finished step."""

import copy
import dataclasses

import pytest
import torch

from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.training.engine import EVALUATING, SAMPLING, SAVING, TrainConfig, Trainer
from genstudio.core.training.interruption import Interrupted


def dcgan(mnist, **kw):
    """A small DCGAN (batch norm in G and D, two optimisers, a D-update counter)."""
    config = TrainConfig(family="gan", preset="dcgan", steps=50, batch_size=16, report_every=1, sample_every_s=0,
                         n_samples=4, eval_batch=16, device="cpu", seed=5,
                         model={"g_channels": 8, "d_channels": 8}, **kw)
    return Trainer(config, dataset=mnist)


def take_steps(trainer, n):
    for _ in range(n):
        x, y = trainer.dataset.batch(trainer._batch_index(trainer.step))
        trainer._train_step(x, y, guarded=True)
        trainer.step += 1


def everything(trainer):
    """The state a checkpoint and an exact resume depend on, as CPU copies."""
    return {"model": {k: v.clone() for k, v in trainer.model.state_dict().items()},
            "optimizers": copy.deepcopy({k: o.state_dict() for k, o in trainer.optimizers.items()}),
            "rng": torch.get_rng_state()}


def assert_same(a, b):
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert torch.equal(a["rng"], b["rng"])
    for name, state in a["optimizers"].items():
        for index, moments in state["state"].items():
            for key, value in moments.items():
                assert torch.equal(value, b["optimizers"][name]["state"][index][key]), (name, index, key)


def test_a_step_stopped_in_its_forward_pass_leaves_the_last_finished_step(mnist):
    trainer = dcgan(mnist)
    take_steps(trainer, 2)
    before = everything(trainer)
    grads_on = [p.requires_grad for p in trainer.model.parameters()]
    # G runs first (its batch norm statistics move), then D: the stop comes as D starts.
    trainer.model.discriminator.register_forward_pre_hook(lambda *_: trainer.stop_token.cancel())
    x, y = trainer.dataset.batch(trainer._batch_index(trainer.step))
    with pytest.raises(Interrupted):
        trainer._train_step(x, y, guarded=True)
    assert_same(before, everything(trainer))
    assert [p.requires_grad for p in trainer.model.parameters()] == grads_on
    assert all(p.grad is None for p in trainer.model.parameters())


def test_a_stop_after_an_optimiser_step_lets_the_step_finish(mnist):
    trainer = dcgan(mnist)
    take_steps(trainer, 1)
    updates = int(trainer.model.d_updates)
    trainer.optimizers["d"].register_step_post_hook(lambda *_: trainer.stop_token.cancel())
    x, y = trainer.dataset.batch(trainer._batch_index(trainer.step))
    trainer._train_step(x, y, guarded=True)         # D stepped: G's half runs on, no half-step is left
    assert trainer.stop_token.cancelled and int(trainer.model.d_updates) == updates + 1


def test_resume_after_an_abandoned_step_is_exact(mnist, tmp_path):
    """3 steps, a 4th abandoned by a stop, save, resume for 2: the same weights as 5 straight steps."""
    straight = dcgan(mnist, out_dir=str(tmp_path / "straight"))
    take_steps(straight, 5)
    stopped = dcgan(mnist, out_dir=str(tmp_path / "stopped"))
    take_steps(stopped, 3)
    layer = next(m for m in stopped.model.generator.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d))
    handle = layer.register_forward_hook(lambda *_: stopped.stop_token.cancel())
    with pytest.raises(Interrupted):
        take_steps(stopped, 1)
    handle.remove()
    saved = stopped.save()
    resumed = Trainer(dataclasses.replace(stopped.config, steps=5), dataset=mnist, resume=saved)
    assert resumed.step == 3
    take_steps(resumed, 2)
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_stop_in_the_evaluation_abandons_it_and_saves_the_last_step(mnist, tmp_path):
    """A PixelCNN (seconds per evaluation at full size): the stop comes inside the held-out
    evaluation's forward pass; the run says what it was doing, then saves the finished steps."""
    config = TrainConfig(family="autoregressive", preset="digits", steps=1000, batch_size=8, report_every=1,
                         sample_every_s=1e-6, n_samples=2, eval_batch=32, device="cpu", out_dir=str(tmp_path),
                         model={"width": 8, "layers": 2, "head": 8})
    trainer = Trainer(config, dataset=mnist)
    net = trainer.model.net
    phases, evaluating = [], False

    def forward_in_evaluation(*_):
        if evaluating and trainer.step >= 2:
            trainer.stop_token.cancel()

    net.register_forward_pre_hook(forward_in_evaluation)     # before the guard's own: it raises right after
    reports = []
    for report in trainer.run():
        reports.append(report)
        if report.kind == "phase":
            phases.append((report.message, report.step))
        evaluating = report.kind == "phase" and report.message == EVALUATING
    last = reports[-1]
    assert last.kind == "stopped" and last.step == 2 and last.message == "stopped at step 2 of 1000"
    assert phases[:2] == [(SAMPLING, 0), (EVALUATING, 0)]
    assert phases[-2:] == [(EVALUATING, 2), (SAVING, 2)]      # abandoned there: no samples report after it
    assert reports[-3].kind == "phase" and [r.kind for r in reports[-2:]] == ["phase", "stopped"]
    assert load_checkpoint(last.path).step == 2
