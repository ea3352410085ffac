"""Folders saved by Hugging Face diffusers: genstudio's DDIM decode of a UNet2DModel equals diffusers'
own DDIMScheduler loop on the same noise; the CLI opens such folders; code, pickles, other networks
and broken files are refused in one line naming the folder; without diffusers the line says how to
get it.

The equivalence tests make a tiny randomly initialised UNet2DModel (1 x 8 x 8 images, 45k
parameters) and save it with diffusers' own save_pretrained. The refusal tests write the folder
by hand (config JSON and a small safetensors file), so they run without diffusers too.
"""

from __future__ import annotations

import json
import sys

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from genstudio.cli import main
from genstudio.core.errors import CheckpointError
from genstudio.core.families.diffusion.sampler import ddim_sample
from genstudio.core.families.family import Capability
from genstudio.core.io.diffusers_folder import INSTALL, WEIGHTS, inspect_diffusers_folder, is_diffusers_folder
from genstudio.core.io.open_model import open_model

UNET = dict(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1, block_out_channels=(8, 16),
            norm_num_groups=4, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D"), attention_head_dim=8)


# --- folders made by diffusers ------------------------------------------------------------------
def make_unet(seed: int = 0, **changes):
    import diffusers

    torch.manual_seed(seed)
    return diffusers.UNet2DModel(**{**UNET, **changes}).eval()


def save_pipeline(folder, unet, scheduler):
    from diffusers import DDIMPipeline, DDPMPipeline, DDPMScheduler

    pipeline = DDPMPipeline if isinstance(scheduler, DDPMScheduler) else DDIMPipeline
    pipeline(unet=unet, scheduler=scheduler).save_pretrained(folder, safe_serialization=True)
    return folder


def reference(unet, scheduler_config: dict, z, steps, labels=None):
    """diffusers' own DDIM loop (DDIMPipeline's, eta 0) from noise z, mapped to [0, 1]. A float64 z
    (and U-Net) steps in float64 from the same float32-built alpha-bars."""
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler.from_config(scheduler_config)
    if z.dtype == torch.float64:
        scheduler.alphas_cumprod = scheduler.alphas_cumprod.double()
        scheduler.final_alpha_cumprod = scheduler.final_alpha_cumprod.double()
    scheduler.set_timesteps(steps)
    x = z.clone()
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(unet(x, t, class_labels=labels).sample, t, x).prev_sample
    return (x / 2 + 0.5).clamp(0, 1)


@pytest.fixture
def diffusers():
    """The optional extra; without it the test is skipped, saying so (the refusal tests below run)."""
    return pytest.importorskip("diffusers", reason=f"the optional diffusers extra is not installed ({INSTALL})")


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny U-Net's ops are too small to share among threads: one thread is faster, and far
    faster on a machine whose cores are busy (an OpenMP team then waits for its slowest member)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def noise(n=2, seed=1):
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))     # (n, C, H, W)


# (scheduler class, its settings, where its config goes, DDIM steps)
CASES = {
    "leading-clip-offset": ("DDIMScheduler", dict(clip_sample=True, timestep_spacing="leading", steps_offset=1),
                            "pipeline", 10),
    "trailing-noclip": ("DDIMScheduler", dict(clip_sample=False, timestep_spacing="trailing"), "subfolder", 20),
    "v-cosine-clip-range": ("DDIMScheduler", dict(prediction_type="v_prediction", beta_schedule="squaredcos_cap_v2",
                                                  clip_sample=True, clip_sample_range=0.5, set_alpha_to_one=False,
                                                  timestep_spacing="trailing"), "beside", 10),
    # 30 steps do not divide T: diffusers steps from t to t - T // 30, between the listed timesteps.
    "trailing-30-steps": ("DDIMScheduler", dict(clip_sample=False, timestep_spacing="trailing"), "subfolder", 30),
    "linspace-30-steps": ("DDIMScheduler", dict(clip_sample=True, timestep_spacing="linspace"), "pipeline", 30),
    "ddpm-scaled-linear-sample": ("DDPMScheduler", dict(beta_schedule="scaled_linear", beta_start=0.00085,
                                                        beta_end=0.012, prediction_type="sample",
                                                        num_train_timesteps=500), "pipeline", 20),
}


@pytest.mark.parametrize("case", CASES)
def test_decode_equals_diffusers_ddim_loop(diffusers, tmp_path, case):
    kind, settings, where, steps = CASES[case]
    unet = make_unet()
    scheduler = getattr(diffusers, kind)(**settings)
    folder = tmp_path / case
    if where == "pipeline":
        save_pipeline(folder, unet, scheduler)
    else:
        unet.save_pretrained(folder, safe_serialization=True)
        scheduler.save_pretrained(folder / "scheduler" if where == "subfolder" else folder)
    assert is_diffusers_folder(folder)
    opened = open_model(folder)
    model, info = opened.model, opened.info
    assert info.family == "diffusion" and info.card.origin == "diffusers" and not info.is_foreign
    assert info.data_shape == info.latent_shape == (1, 8, 8)
    assert {Capability.ENCODE, Capability.VARIATIONS} <= info.capabilities
    z = noise()
    ours = model.decode(z, steps=steps)
    expected = reference(unet, scheduler.config, z, steps)
    # float32: diffusers rounds each step's coefficients (sqrt of alpha-bars) to float32, genstudio keeps
    # them in float64; a 30-step chain with x_0 clipping magnifies that rounding. Measured max |ours -
    # diffusers| (torch 2.14, diffusers 0.42.1, CPU): 0, 0, 1.2e-7, 2.3e-6, 1.3e-4 (linspace-30-steps),
    # 7.2e-7; diffusers' own float32 loop differs from its float64 one by as much (1.2e-4 .. 2.7e-4 for
    # 30 clipped steps of any spacing), so 5e-4 is float32's reach, and the float64 check below is exact.
    assert torch.allclose(ours, expected, atol=5e-4), (ours - expected).abs().max()
    if settings.get("clip_sample"):
        # The clipping matters for this random U-Net: without it diffusers' own loop differs.
        unclipped = reference(unet, {**scheduler.config, "clip_sample": False}, z, steps)
        assert (unclipped - expected).abs().max() > 1e-2
    # float64, the same sampler, schedule and U-Net weights: diffusers' steps agree to rounding (measured 0).
    model.double(), unet.double()
    ours64 = (ddim_sample(model.predictor(), model.schedule, z.double(), steps) / 2 + 0.5).clamp(0, 1)
    expected64 = reference(unet, scheduler.config, z.double(), steps)
    assert torch.allclose(ours64, expected64, rtol=0, atol=1e-12), (ours64 - expected64).abs().max()


@pytest.mark.usefixtures("diffusers")
def test_bare_unet_folder_uses_ddpm_default_schedule_and_says_so(tmp_path):
    unet = make_unet(seed=2)
    unet.save_pretrained(tmp_path / "bare")
    opened = open_model(tmp_path / "bare")
    model = opened.model
    assert any("no scheduler config" in note for note in opened.card.notes)
    z = noise(seed=4)
    from diffusers import DDIMScheduler

    expected = reference(unet, DDIMScheduler().config, z, 10)        # linear 1e-4 .. 0.02, T = 1000
    assert torch.allclose(model.decode(z, steps=10), expected, atol=1e-4)


def test_class_conditional_unet_decodes_each_sample_with_its_label(diffusers, tmp_path):
    unet = make_unet(seed=5, num_class_embeds=3)
    scheduler = diffusers.DDIMScheduler(clip_sample=False)
    folder = save_pipeline(tmp_path / "conditional", unet, scheduler)
    opened = open_model(folder)
    model, info = opened.model, opened.info
    assert info.num_classes == 3 and info.has(Capability.CLASS_CONDITIONAL)
    z, labels = noise(3, seed=6), torch.tensor([2, 0, 1])
    ours = model.decode(z, labels, steps=10)
    assert torch.allclose(ours, reference(unet, scheduler.config, z, 10, labels), atol=1e-4)
    # No labels: sample i gets label i mod 3; guidance has no "no label" class to work against.
    assert torch.allclose(model.decode(z, steps=10), model.decode(z, torch.tensor([0, 1, 2]), steps=10))
    with pytest.raises(ValueError, match="guidance is not available"):
        model.decode(z, labels, steps=10, guidance=1.0)
    from genstudio.core import registry

    defaults = registry.get("diffusion").decode_defaults(opened.card.config.to_dict(), info.num_classes)
    assert defaults == {"steps": 50, "eta": 0.0, "guidance": 0.0}
    assert any("guidance is not available" in note for note in opened.card.notes)


@pytest.mark.parametrize("spacing", ["leading", "linspace"])
def test_inverting_a_decoded_sample_returns_close_to_it(diffusers, tmp_path, spacing):
    """DDIM inversion with the folder's schedule and U-Net: decode(encode(x)) is close to x, also where
    diffusers' steps land between the listed timesteps (linspace). The U-Net's output is scaled down,
    so it is near the optimal v-predictor of N(0, I) data, for which 50 first-order DDIM steps invert
    to a few per cent."""
    unet = make_unet(seed=7)
    with torch.no_grad():
        unet.conv_out.weight.mul_(0.05)
        unet.conv_out.bias.mul_(0.05)
    scheduler = diffusers.DDIMScheduler(prediction_type="v_prediction", clip_sample=False, timestep_spacing=spacing)
    model = open_model(save_pipeline(tmp_path / "inv", unet, scheduler)).model
    z = noise(4, seed=3) * 0.3                       # decodes inside [0, 1], so nothing is clamped
    x = model.decode(z)                              # the model's 50 steps
    assert 0 < x.min() and x.max() < 1
    latent = model.encode(x)
    again = model.decode(latent)
    assert (again - x).abs().max() < 0.05
    assert (latent - z).norm() / z.norm() < 0.15
    assert (model.decode(noise(4, seed=9) * 0.3) - x).abs().max() > 0.3      # other noise: another image


def test_cli_info_sample_and_diagnose_open_the_folder(diffusers, tmp_path, capsys):
    folder = save_pipeline(tmp_path / "pipe", make_unet(), diffusers.DDIMScheduler())
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "diffusers pipeline folder (DDIMPipeline)" in out and "UNet2DModel" in out
    assert "1 x 8 x 8" in out and "DDIMScheduler" in out and "leading spacing" in out
    assert main(["info", "--json", str(folder)]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["parameters"] == sum(p.numel() for p in make_unet().parameters())
    grid = tmp_path / "grid.png"
    assert main(["sample", str(folder), "--grid", "2x3", "--out", str(grid)]) == 0
    with Image.open(grid) as image:
        assert image.size == (3 * 10 + 2, 2 * 10 + 2)
    capsys.readouterr()
    assert main(["diagnose", str(folder)]) == 2            # opened; no data set to compare with
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(folder) in err and "--data" in err


def test_a_diffusers_card_is_never_saved_as_a_checkpoint(diffusers, tmp_path):
    card = open_model(save_pipeline(tmp_path / "pipe", make_unet(), diffusers.DDIMScheduler())).card
    with pytest.raises(CheckpointError, match="not saved as a genstudio checkpoint"):
        card.to_header()


@pytest.mark.usefixtures("diffusers")
def test_weights_with_pre_0_14_attention_names_load(tmp_path):
    """Folders saved before diffusers 0.14 (many on the Hub) name attention layers query / key / value /
    proj_attn; they load as diffusers loads them, to the same U-Net."""
    from safetensors.torch import load_file

    unet = make_unet(seed=8)
    unet.save_pretrained(tmp_path / "old")
    weights = tmp_path / "old" / WEIGHTS
    renamed = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    old = {}
    for key, value in load_file(str(weights)).items():
        for new_name, old_name in renamed.items():
            key = key.replace(f".{new_name}.", f".{old_name}.")
        old[key] = value
    assert any(".query." in key for key in old)
    save_file(old, str(weights))
    model = open_model(tmp_path / "old").model
    x, t = noise(), torch.tensor([500, 500])
    with torch.no_grad():
        assert torch.equal(model.unet(x, t).sample, unet(x, t).sample)


def test_truncated_or_mismatched_weights_are_refused(diffusers, tmp_path):
    folder = save_pipeline(tmp_path / "pipe", make_unet(), diffusers.DDIMScheduler())
    weights = folder / "unet" / WEIGHTS
    data = weights.read_bytes()
    weights.write_bytes(data[:-100])
    assert_refused(folder, "truncated")
    weights.write_bytes(data)
    config = json.loads((folder / "unet" / "config.json").read_text())
    (folder / "unet" / "config.json").write_text(json.dumps({**config, "block_out_channels": [8, 24]}))
    assert_refused(folder, "has shape")


# --- refusals (folders written by hand: diffusers not needed) ------------------------------------
UNET_CONFIG = {"_class_name": "UNet2DModel", "_diffusers_version": "0.42.1",
               **{k: list(v) if isinstance(v, tuple) else v for k, v in UNET.items()}}
SCHEDULER_CONFIG = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.42.1", "num_train_timesteps": 1000,
                    "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02, "clip_sample": True}
MODEL_INDEX = {"_class_name": "DDIMPipeline", "_diffusers_version": "0.42.1", "scheduler": ["diffusers", "DDIMScheduler"],
               "unet": ["diffusers", "UNet2DModel"]}


def hand_made(folder):
    """A pipeline folder with the right files; its weights are a stand-in (one tensor)."""
    (folder / "unet").mkdir(parents=True)
    (folder / "scheduler").mkdir()
    (folder / "model_index.json").write_text(json.dumps(MODEL_INDEX))
    (folder / "unet" / "config.json").write_text(json.dumps(UNET_CONFIG))
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER_CONFIG))
    save_file({"conv_in.weight": torch.zeros(8, 1, 3, 3)}, str(folder / "unet" / WEIGHTS))
    return folder


def assert_refused(folder, reason: str):
    with pytest.raises(CheckpointError) as caught:
        open_model(folder)
    message = str(caught.value)
    assert "\n" not in message and str(folder) in message and reason in message, message
    return message


def edit_json(path, **changes):
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


BREAKS = {
    "custom pipeline class": (lambda f: edit_json(f / "model_index.json", _class_name=["my_pipeline", "MyPipeline"]),
                              "custom pipeline"),
    "custom_pipeline entry": (lambda f: edit_json(f / "model_index.json", custom_pipeline="someone/pipeline"),
                              "'custom_pipeline'"),
    "unknown pipeline": (lambda f: edit_json(f / "model_index.json", _class_name="StableDiffusionPipeline"),
                         "not a pipeline genstudio opens"),
    "custom component": (lambda f: edit_json(f / "model_index.json", unet=["my_unets", "UNet2DModel"]),
                         "custom component"),
    "auto_map in config": (lambda f: edit_json(f / "unet" / "config.json", auto_map={"AutoModel": "x.Y"}),
                           "'auto_map'"),
    "trust_remote_code": (lambda f: edit_json(f / "scheduler" / "scheduler_config.json", trust_remote_code=True),
                          "'trust_remote_code'"),
    "python file": (lambda f: (f / "unet" / "unet.py").write_text("import os\n"), "Python code"),
    "pickle weights": (lambda f: (f / "unet" / WEIGHTS).rename(f / "unet" / "diffusion_pytorch_model.bin"),
                       "pickle"),
    "text-to-image unet": (lambda f: edit_json(f / "unet" / "config.json", _class_name="UNet2DConditionModel"),
                           "text encoders"),
    "autoencoder config": (lambda f: edit_json(f / "unet" / "config.json", _class_name="AutoencoderKL"),
                           "not a UNet2DModel"),
    "latent-diffusion unet": (lambda f: edit_json(f / "unet" / "config.json", in_channels=4, out_channels=4),
                              "latent-diffusion"),
    "corrupt safetensors": (lambda f: (f / "unet" / WEIGHTS).write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{{{{"),
                            "safetensors"),
    "missing config": (lambda f: (f / "unet" / "config.json").unlink(), "config is missing"),
    "missing weights": (lambda f: (f / "unet" / WEIGHTS).unlink(), "weights are missing"),
    "missing scheduler": (lambda f: (f / "scheduler" / "scheduler_config.json").unlink(), "without scheduler"),
    "huge config": (lambda f: (f / "unet" / "config.json").write_text(" " * (2 << 20) + "{}"), "more than"),
    "list config": (lambda f: (f / "unet" / "config.json").write_text("[1, 2]"), "expected a JSON object"),
    "nested config": (lambda f: (f / "unet" / "config.json").write_text("[" * 100_000 + "]" * 100_000),
                      "not valid JSON"),
    "NaN in scheduler": (lambda f: (f / "scheduler" / "scheduler_config.json").write_text('{"beta_start": NaN}'),
                         "not valid JSON"),
    "unknown beta schedule": (lambda f: edit_json(f / "scheduler" / "scheduler_config.json", beta_schedule="sigmoid"),
                              "not one genstudio knows"),
    "thresholding": (lambda f: edit_json(f / "scheduler" / "scheduler_config.json", thresholding=True),
                     "dynamic thresholding"),
}


@pytest.mark.parametrize("name", BREAKS)
def test_refusals_are_one_line_naming_the_folder(tmp_path, name):
    breaking, reason = BREAKS[name]
    folder = hand_made(tmp_path / "model")
    breaking(folder)
    assert_refused(folder, reason)


def test_a_folder_that_is_not_a_diffusers_folder(tmp_path):
    (tmp_path / "run").mkdir()
    assert not is_diffusers_folder(tmp_path / "run")
    assert_refused(tmp_path / "run", "not a model folder genstudio opens (it opens diffusers folders)")


def test_without_the_extra_the_message_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    folder = hand_made(tmp_path / "model")
    assert inspect_diffusers_folder(folder).pipeline == "DDIMPipeline"      # readable without diffusers
    monkeypatch.setitem(sys.modules, "diffusers", None)                       # as if not installed
    message = assert_refused(folder, "needs the diffusers extra")
    assert message == f"{folder}: opening diffusers folders needs the diffusers extra: {INSTALL}"
    assert main(["sample", str(folder), "--out", str(tmp_path / "grid.png")]) == 2
    assert capsys.readouterr().err.strip() == f"genstudio: error: {message}"
    assert main(["info", str(folder)]) == 0                                   # info needs no diffusers
    assert "DDIMPipeline" in capsys.readouterr().out
