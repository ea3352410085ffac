"""Generators saved by the public CycleGAN / pix2pix code, opened by genstudio (core/io/cyclegan_reader.py,
genstudio translate / info / convert).

The state dicts are made here: random weights in a REFERENCE implementation written below, a plain
re-statement of the public code's ResnetGenerator, ResnetBlock and UnetGenerator (models/networks.py
of junyanz/pytorch-CycleGAN-and-pix2pix), independent of genstudio's networks.py, saved with
torch.save as that code saves them. genstudio must infer each architecture from the file alone
and compute what the reference computes; the CLI's output must equal the public test pipeline's
(torchvision's Resize / ToTensor / Normalize, then tensor2im) within 1/255.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from genstudio.cli import main
from genstudio.core.errors import CheckpointError
from genstudio.core.io import readers
from genstudio.core.io.open_model import open_model

# --- the reference: the public generators, restated --------------------------------------------


def reference_norm(kind: str):
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)


class RefResnetBlock(nn.Module):
    def __init__(self, dim, norm_layer, use_dropout, use_bias):
        super().__init__()
        block = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                 norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            block += [nn.Dropout(0.5)]
        block += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                  norm_layer(dim)]
        self.conv_block = nn.Sequential(*block)

    def forward(self, x):
        return x + self.conv_block(x)


class RefResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm="instance", use_dropout=False, n_blocks=6):
        super().__init__()
        norm_layer = reference_norm(norm)
        use_bias = norm_layer.func == nn.InstanceNorm2d
        model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                 norm_layer(ngf), nn.ReLU(True)]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                      norm_layer(ngf * mult * 2), nn.ReLU(True)]
        mult = 2 ** n_downsampling
        for _ in range(n_blocks):
            model += [RefResnetBlock(ngf * mult, norm_layer, use_dropout, use_bias)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [nn.ConvTranspose2d(ngf * mult, int(ngf * mult / 2), kernel_size=3, stride=2, padding=1,
                                         output_padding=1, bias=use_bias),
                      norm_layer(int(ngf * mult / 2)), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class RefUnetBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False,
                 norm_layer=None, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        use_bias = norm_layer.func == nn.InstanceNorm2d
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = norm_layer(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = norm_layer(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv] + [submodule] + [uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv] + [uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv, downnorm] + [submodule] + [uprelu, upconv, upnorm]
            if use_dropout:
                model += [nn.Dropout(0.5)]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class RefUnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm="batch", use_dropout=False):
        super().__init__()
        norm_layer = reference_norm(norm)
        block = RefUnetBlock(ngf * 8, ngf * 8, norm_layer=norm_layer, innermost=True)
        for _ in range(num_downs - 5):
            block = RefUnetBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer, use_dropout=use_dropout)
        block = RefUnetBlock(ngf * 4, ngf * 8, submodule=block, norm_layer=norm_layer)
        block = RefUnetBlock(ngf * 2, ngf * 4, submodule=block, norm_layer=norm_layer)
        block = RefUnetBlock(ngf, ngf * 2, submodule=block, norm_layer=norm_layer)
        self.model = RefUnetBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True,
                                  norm_layer=norm_layer)

    def forward(self, x):
        return self.model(x)


def randomised(net: nn.Module, seed: int) -> nn.Module:
    """Every weight, bias and BatchNorm statistic drawn at random (a trained net's are not the
    defaults: running mean 0 and variance 1 would hide a norm read in the wrong mode)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var") or name.endswith("weight") and tensor.dim() == 1:   # BatchNorm: > 0
                tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5)
            else:
                fan_in = tensor[0].numel() if tensor.dim() > 1 else 10
                tensor.copy_(torch.randn(tensor.shape, generator=g) * (1.5 / fan_in) ** 0.5)
    return net.eval()


def saved(net: nn.Module, path, **save) -> nn.Module:
    torch.save(net.state_dict(), path, **save)
    return net


def reference_pipeline(net: nn.Module, image_path, size: int, grey: bool = False) -> np.ndarray:
    """The public test pipeline: the loader's convert('RGB'), get_transform's Grayscale / Resize (bicubic)
    / ToTensor / Normalize, the net, and tensor2im's ((y + 1) / 2 * 255).astype(uint8): (H, W, C)."""
    steps = ([transforms.Grayscale(1)] if grey else []) + [
        transforms.Resize([size, size], transforms.InterpolationMode.BICUBIC), transforms.ToTensor(),
        transforms.Normalize((0.5,) * (1 if grey else 3), (0.5,) * (1 if grey else 3))]
    x = transforms.Compose(steps)(Image.open(image_path).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        y = net(x)[0].float().numpy()
    if y.shape[0] == 1:
        y = np.tile(y, (3, 1, 1))
    return ((np.transpose(y, (1, 2, 0)) + 1) / 2.0 * 255.0).astype(np.uint8)


def photo(path, size=(50, 38), seed=0):
    """A smooth RGB picture with some noise, of a size the pipeline must resize."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size[1], 0:size[0]]
    base = np.stack([xx * 255 / size[0], yy * 255 / size[1], (xx + yy) * 127 / sum(size)], -1)
    array = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(array).save(path)
    return path


def generator_output(path, x: torch.Tensor) -> torch.Tensor:
    """genstudio's opened model on x (n, C, H, W) in [-1, 1], through its public translate()."""
    opened = open_model(path)
    return opened.model.translate((x + 1) / 2) * 2 - 1


def assert_computes_as(ref: nn.Module, path, x: torch.Tensor) -> None:
    """The file opened by genstudio computes what the reference module does on x, within 2e-6."""
    with torch.no_grad():
        expected = ref(x)
    assert torch.allclose(generator_output(path, x), expected, atol=2e-6)


def unit_input(channels: int, side: int, seed: int = 3) -> torch.Tensor:
    return torch.rand(2, channels, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- inference --------------------------------------------------------------------------------------


def test_a_resnet_9_state_dict_is_inferred_and_computes_what_the_reference_does(tmp_path):
    path = tmp_path / "latest_net_G_A.pth"
    ref = saved(randomised(RefResnetGenerator(3, 3, ngf=8, norm="instance", n_blocks=9), 1), path)
    model = open_model(path).model
    config = model.config
    assert (config.generator, config.n_blocks, config.ngf, config.norm, config.dropout) == ("resnet", 9, 8,
                                                                                             "instance", False)
    assert config.directions == 1 and model.g_ba is None and model.d_a is None and config.data_shape == (3, 256, 256)
    x = unit_input(3, 32)
    assert_computes_as(ref, path, x)
    with pytest.raises(Exception, match="cannot be trained"):
        model.make_optimizers({"lr": 1e-3})


def test_a_resnet_6_with_dropout_and_batch_norm_computes_what_the_reference_does_in_eval_mode(tmp_path):
    path = tmp_path / "latest_net_G_B.pth"
    ref = saved(randomised(RefResnetGenerator(3, 3, ngf=8, norm="batch", use_dropout=True, n_blocks=6), 2), path)
    config = open_model(path).model.config
    assert (config.n_blocks, config.norm, config.dropout) == (6, "batch", True)
    x = unit_input(3, 24)
    assert_computes_as(ref, path, x)


def test_a_unet_128_with_batch_norm_computes_what_the_reference_does_in_eval_mode(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    ref = saved(randomised(RefUnetGenerator(3, 3, 7, ngf=8, norm="batch", use_dropout=True), 3), path)
    model = open_model(path).model
    assert (model.config.generator, model.config.unet_downs, model.config.ngf, model.config.norm) == (
        "unet", 7, 8, "batch")
    x = unit_input(3, 128)
    assert_computes_as(ref, path, x)


def test_a_grey_unet_with_instance_norm_is_inferred(tmp_path):
    path = tmp_path / "g.pth"
    ref = saved(randomised(RefUnetGenerator(1, 1, 5, ngf=4, norm="instance"), 4), path)
    config = open_model(path).model.config
    assert (config.generator, config.unet_downs, config.norm, config.data_shape) == ("unet", 5, "instance",
                                                                                     (1, 256, 256))
    x = unit_input(1, 32)
    assert_computes_as(ref, path, x)


def test_files_of_old_pytorch_versions_open(tmp_path):
    """The legacy (not zip) torch.save format; InstanceNorm running statistics saved by PyTorch before
    0.4, which the public code deletes; BatchNorm without num_batches_tracked (before 0.4.1)."""
    instance = randomised(RefResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=2), 5)
    state = instance.state_dict()
    for name, module in instance.named_modules():
        if isinstance(module, nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.zeros(module.num_features)
            state[f"{name}.running_var"] = torch.ones(module.num_features)
    old = tmp_path / "old_net_G_A.pth"
    torch.save(state, old, _use_new_zipfile_serialization=False)
    x = unit_input(3, 16)
    with torch.no_grad():
        assert torch.allclose(generator_output(old, x), instance(x), atol=2e-6)
    assert "legacy InstanceNorm" in dict(readers.describe(old).rows)["note"]

    batch = randomised(RefResnetGenerator(3, 3, ngf=4, norm="batch", n_blocks=1), 6)
    counters = tmp_path / "no_counters_net_G.pth"
    torch.save({k: v for k, v in batch.state_dict().items() if not k.endswith("num_batches_tracked")}, counters)
    with torch.no_grad():
        assert torch.allclose(generator_output(counters, x), batch(x), atol=2e-6)


def test_a_torchscript_pth_is_still_the_foreign_readers(tmp_path):
    path = tmp_path / "scripted.pth"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(path))
    assert readers.reader_for(path).name == "foreign-generator"
    plain = tmp_path / "plain.pth"
    torch.save(nn.Linear(2, 2).state_dict(), plain)
    assert readers.reader_for(plain).name == "cyclegan-state-dict"


# --- the CLI: translate, info, convert ---------------------------------------------------------------


def test_translate_equals_the_public_pipeline_within_1_of_255(tmp_path, capsys):
    pth = tmp_path / "latest_net_G_A.pth"
    ref = saved(randomised(RefResnetGenerator(3, 3, ngf=8, norm="instance", n_blocks=9), 7), pth)
    image = photo(tmp_path / "horse.jpg.png")
    out = tmp_path / "zebra.png"
    assert main(["translate", str(pth), str(image), "--out", str(out)]) == 0
    assert "A -> B, 256 x 256" in capsys.readouterr().out
    ours = np.asarray(Image.open(out)).astype(int)
    theirs = reference_pipeline(ref, image, 256).astype(int)
    assert ours.shape == theirs.shape == (256, 256, 3)
    assert np.abs(ours - theirs).max() <= 1
    assert ours.std() > 10                      # a picture, not a flat field that would match anything


def test_translate_grey_several_images_into_a_folder(tmp_path, capsys):
    pth = tmp_path / "latest_net_G.pth"
    ref = saved(randomised(RefResnetGenerator(1, 1, ngf=4, norm="batch", n_blocks=2), 8), pth)
    images = [photo(tmp_path / "a.png", seed=1), photo(tmp_path / "b.png", size=(30, 60), seed=2)]
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["translate", str(pth), *map(str, images), "--out", str(folder), "--size", "64"]) == 0
    for image in images:
        written = Image.open(folder / image.name)
        assert written.mode == "L" and written.size == (64, 64)
        theirs = reference_pipeline(ref, image, 64, grey=True)[:, :, 0].astype(int)
        assert np.abs(np.asarray(written).astype(int) - theirs).max() <= 1


def test_info_and_convert_and_the_converted_checkpoint_translates_the_same(tmp_path, capsys):
    pth = tmp_path / "latest_net_G_A.pth"
    saved(randomised(RefResnetGenerator(3, 3, ngf=4, norm="instance", use_dropout=True, n_blocks=3), 9), pth)
    assert main(["info", str(pth)]) == 0
    shown = capsys.readouterr().out
    assert "resnet_3blocks" in shown and "dropout 0.5" in shown and "weights_only=True" in shown
    converted = tmp_path / "g.safetensors"
    assert main(["convert", str(pth), str(converted)]) == 0
    capsys.readouterr()
    assert main(["info", str(converted)]) == 0
    assert "pytorch-CycleGAN-and-pix2pix" in capsys.readouterr().out
    image = photo(tmp_path / "in.png")
    for source, out in ((pth, "from_pth.png"), (converted, "from_checkpoint.png")):
        assert main(["translate", str(source), str(image), "--out", str(tmp_path / out), "--size", "32"]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "from_pth.png")),
                          np.asarray(Image.open(tmp_path / "from_checkpoint.png")))
    card = open_model(converted).card
    assert card.train["converted_from"]["file"] == pth.name and card.config.directions == 1


@pytest.mark.parametrize("case,words", [
    ("B -> A of a one-generator file", "one generator (A -> B) only"),
    ("a size the ResNet cannot take", "multiples of 4"),
    ("two images into a file", "not an existing folder"),
    ("a missing image", "no such file"),
    ("a file that is not an image", "not a readable image"),
    ("an output that is an input", "would overwrite an input"),
])
def test_translate_refuses_in_one_line(tmp_path, capsys, case, words):
    pth = tmp_path / "latest_net_G_A.pth"
    saved(randomised(RefResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=1), 10), pth)
    image = str(photo(tmp_path / "in.png"))
    out = str(tmp_path / "o.png")
    argv = {"B -> A of a one-generator file": [image, "--out", out, "--direction", "BtoA"],
            "a size the ResNet cannot take": [image, "--out", out, "--size", "30"],
            "two images into a file": [image, image, "--out", out],
            "a missing image": [str(tmp_path / "absent.png"), "--out", out],
            "a file that is not an image": [str(pth), "--out", out],
            "an output that is an input": [image, "--out", str(tmp_path)]}[case]
    assert main(["translate", str(pth), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genstudio: error:") and words in err, err
    assert not Path(out).exists()


def test_translate_refuses_a_model_of_another_family(tmp_path, capsys):
    gan = Path(__file__).parents[1] / "fixtures" / "v1-gan-mlp.safetensors"
    image = photo(tmp_path / "in.png")
    assert main(["translate", str(gan), str(image), "--out", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a translation model (it is a gan model)" in err, err


def test_a_state_dict_that_does_not_fit_is_refused_naming_the_key(tmp_path):
    net = randomised(RefResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=2), 11)
    state = net.state_dict()
    state["model.10.conv_block.5.weight"] = torch.zeros(16, 16, 3, 1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"model\.10\.conv_block\.5\.weight has shape \[16, 16, 3, 1\]"):
        open_model(path)
