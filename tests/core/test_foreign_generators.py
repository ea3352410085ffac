"""A user's own TorchScript / torch.export generator opens through open_model, with consent, and samples
like ours. (Crafted, malicious files: tests/reliability/test_code_consent.py.)"""

import json

import pytest
import torch
from foreign_generators import TinyGenerator

from genstudio.core.errors import CheckpointError
from genstudio.core.io.foreign import ConsentRefused, trust_code
from genstudio.core.io.open_model import open_model


@pytest.fixture
def generator():
    torch.manual_seed(0)
    return TinyGenerator().eval()


def test_torchscript_generator_with_sidecar(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    (tmp_path / "g.pt.json").write_text(json.dumps({"latent_dim": 8, "output_range": [-1, 1]}))
    opened = open_model(path, consent=trust_code)
    assert opened.is_foreign and opened.family == "foreign"
    assert opened.model.latent_shape == (8,) and opened.model.data_shape == (1, 12, 12)
    z = torch.randn(5, 8)
    images = opened.model.decode(z)
    assert images.shape == (5, 1, 12, 12)
    assert torch.allclose(images, (generator(z) + 1) / 2, atol=1e-6)  # mapped from [-1, 1] to [0, 1]


def test_torch_export_generator(generator, tmp_path):
    path = tmp_path / "g.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(generator, (torch.randn(4, 8),), dynamic_shapes={"z": {0: batch}})
    torch.export.save(program, path)
    opened = open_model(path, latent_dim=8, output_range=(-1.0, 1.0), consent=trust_code)
    assert opened.card.config.kind == "export" and opened.card.is_foreign
    z = torch.randn(3, 8)
    assert torch.allclose(opened.model.decode(z), (generator(z) + 1) / 2, atol=1e-6)


def test_missing_latent_size_is_explained(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    with pytest.raises(CheckpointError, match="latent size.*--latent-dim") as exc:
        open_model(path, consent=trust_code)
    assert str(path) in str(exc.value)


def test_wrong_latent_size_is_explained(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    with pytest.raises(CheckpointError, match="failed on latents of shape") as exc:
        open_model(path, latent_dim=5, consent=trust_code)
    assert "\n" not in str(exc.value)


def test_no_consent_no_load_and_the_message_says_how(generator, tmp_path):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    with pytest.raises(ConsentRefused, match="program from its author.*--trust-code") as exc:
        open_model(path, latent_dim=8)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ConsentRefused, match="not allowed"):
        open_model(path, latent_dim=8, consent=lambda file: False)


@pytest.mark.parametrize("save_as,kind,bad_name", [("g.pt", "TorchScript", "g.pt2"), ("g.pt2", "torch.export", "g.pt")])
def test_name_and_content_must_agree(generator, tmp_path, save_as, kind, bad_name):
    path = tmp_path / save_as
    if kind == "TorchScript":
        torch.jit.save(torch.jit.script(generator), path)
    else:
        torch.export.save(torch.export.export(generator, (torch.randn(4, 8),)), path)
    misnamed = tmp_path / bad_name
    path.rename(misnamed)
    with pytest.raises(CheckpointError, match=f"a {kind} archive named {misnamed.suffix}: name it") as exc:
        open_model(misnamed, latent_dim=8, consent=trust_code)
    assert "\n" not in str(exc.value)


def test_a_torch_save_pickle_named_pt_is_refused(generator, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(generator.state_dict(), path)
    with pytest.raises(CheckpointError, match="torch.save pickle.*never unpickles"):
        open_model(path, latent_dim=8, consent=trust_code)


@pytest.mark.parametrize("sidecar,reason", [
    ("{not json", "invalid JSON"),
    ("[8]", "expected a JSON object"),
    ('{"latent_dim": "eight"}', "latent size must be a whole number"),
    ('{"latent_dim": 8, "output_range": "wide"}', "output range must be two numbers"),
    ('{"latent_dim": 8, "output_range": [1, -1]}', "from a lower to a higher"),
])
def test_a_bad_sidecar_is_one_line(generator, tmp_path, sidecar, reason):
    path = tmp_path / "g.pt"
    torch.jit.save(torch.jit.script(generator), path)
    (tmp_path / "g.pt.json").write_text(sidecar)
    with pytest.raises(CheckpointError, match=reason) as exc:
        open_model(path, consent=trust_code)
    assert "\n" not in str(exc.value) and "g.pt" in str(exc.value)
