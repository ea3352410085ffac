"""A task's own copy of the open model (render_worker.task_copy) decodes as the original does, shares
no weights with it, and can be made of every kind of model the app opens: a family's model and a
foreign TorchScript or torch.export generator (a deep-copied ScriptModule's parameters are not
leaves, so `requires_grad_(False)` on the whole module failed for it)."""

import pytest
import torch

from foreign_generators import TinyGenerator
from genstudio.core.io.foreign import ForeignGenerator
from genstudio.core.io.open_model import open_model
from genstudio.ui.model_list import demo_checkpoints
from genstudio.ui.render_worker import task_copy


def test_a_family_model_copy_is_frozen_and_separate():
    gan = open_model(next(p for p in demo_checkpoints() if p.stem == "gan-mnist")).model
    copied = task_copy(gan)
    z, labels = gan.sample_latents(3, torch.Generator().manual_seed(0)), torch.tensor([1, 4, 7])
    assert torch.equal(copied.decode(z, labels), gan.decode(z, labels))
    assert not any(p.requires_grad for p in copied.parameters()) and not copied.training
    ours = {p.data_ptr() for p in gan.parameters()}
    assert not ours & {p.data_ptr() for p in copied.parameters()}


@pytest.mark.parametrize("kind", ["torchscript", "export"])
def test_a_foreign_generator_can_be_copied(kind, tmp_path):
    generator = TinyGenerator().eval()
    z = torch.randn(2, 8)
    module = torch.jit.script(generator) if kind == "torchscript" else torch.export.export(generator, (z,)).module()
    foreign = ForeignGenerator(module, 8, (-1.0, 1.0), kind, tmp_path / f"g.{kind}")
    copied = task_copy(foreign)
    assert torch.equal(copied.decode(z), foreign.decode(z))
