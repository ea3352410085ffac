"""The translation family's architecture fields (CycleGAN and its multimodal variant), their
defaults and the rules between them. Field names follow the public CycleGAN / pix2pix code's
options (ngf, ndf, n_blocks, norm, no_dropout), so a state dict saved by that code maps onto one
config (io/cyclegan_reader.py infers it from the keys and shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from genstudio.core.families.config import ConfigError, ModelConfig, ModelSize

GENERATORS = ("resnet", "unet")
NORMS = ("instance", "batch")


@dataclass(frozen=True)
class TranslationConfig(ModelConfig):
    generator: str = field(default="resnet", metadata={"choices": GENERATORS})
    ngf: int = field(default=64, metadata={"min": 1, "max": 4096})          # G's first layer's maps
    n_blocks: int = field(default=9, metadata={"min": 0, "max": 64})        # ResNet G: residual blocks
    unet_downs: int = field(default=8, metadata={"min": 5, "max": 12})      # U-Net G: 2x downsamplings
    norm: str = field(default="instance", metadata={"choices": NORMS})
    dropout: bool = False                                                    # 0.5 in each block (ResNet) / inner block (U-Net)
    ndf: int = field(default=64, metadata={"min": 1, "max": 4096})          # PatchGAN D's first layer's maps
    d_layers: int = field(default=3, metadata={"min": 1, "max": 8})         # PatchGAN D's stride-2 convs
    # > 0: multimodal (augmented CycleGAN / BicycleGAN style): each generator also takes a style code
    # of this many numbers, which sets its residual blocks' AdaIN scales and shifts; a style encoder
    # per domain reads an image's code back (latent regression keeps the code meaningful).
    style_dim: int = field(default=0, metadata={"min": 0, "max": 256})
    lambda_cycle: float = field(default=10.0, metadata={"min": 0.0, "max": 1e4})
    lambda_identity: float = field(default=0.5, metadata={"min": 0.0, "max": 100.0})   # times lambda_cycle
    lambda_style: float = field(default=1.0, metadata={"min": 0.0, "max": 1e4})         # latent regression
    pool_size: int = field(default=50, metadata={"min": 0, "max": 10_000})               # past fakes D also sees
    # 2: CycleGAN (G_AB, G_BA, D_A, D_B); 1: one generator read from a public state dict (A -> B only).
    directions: int = field(default=2, metadata={"choices": (1, 2)})
    examples: int = field(default=8, metadata={"min": 1, "max": 256})   # inputs kept per domain for decode(z)

    def check(self) -> None:
        if len(self.data_shape) != 3:
            raise ConfigError("translation works on images (C, H, W), not 2-D points")
        channels, height, width = self.data_shape
        if channels not in (1, 3):
            raise ConfigError(f"translation needs grey or RGB images, not {channels} channels")
        if self.generator == "resnet" and (height % 4 or width % 4):
            raise ConfigError(f"a ResNet generator halves the image twice: {height} x {width} is not a multiple of 4")
        if self.generator == "unet" and (height % 2 ** self.unet_downs or width % 2 ** self.unet_downs):
            raise ConfigError(f"a U-Net with {self.unet_downs} downsamplings needs sides that are multiples of "
                              f"{2 ** self.unet_downs}, not {height} x {width}")
        # d_layers stride-2 convs halve the side each, then two 4x4 stride-1 convs take 1 px off each.
        if min(height, width) // 2 ** self.d_layers < 3:
            raise ConfigError(f"a PatchGAN with {self.d_layers} stride-2 layers needs images of at least "
                              f"{3 * 2 ** self.d_layers} px, not {height} x {width}")
        if self.style_dim and (self.generator != "resnet" or self.norm != "instance"):
            raise ConfigError("a style code (style_dim > 0) needs the ResNet generator with instance norm (AdaIN)")
        if self.num_classes:
            raise ConfigError("translation models are not class-conditional (their input image holds the class)")

    def size(self) -> ModelSize:
        """Parameters and buffers counted on a build on the meta device (it allocates nothing and
        runs no op), and a one-image translation's activations in closed form: every generator layer's
        output maps (conv, norm and activation each), level by level. Not Family.size_of's trial
        decode on the meta device: running any op there loads torch._dynamo, about 3 s of every
        first opening of a translation model."""
        import torch

        from genstudio.core.families.translation.model import CycleGAN

        with torch.device("meta"):
            model = CycleGAN(self)
        weights = sum(t.numel() for t in (*model.parameters(), *model.buffers()))
        channels, height, width = self.data_shape
        area, ngf = height * width, self.ngf
        if self.generator == "resnet":
            # stem, two halvings, the blocks (two convs, two norms, ReLU, the sum), two doublings, the output
            maps = 3 * ngf * area + 3 * 2 * ngf * area // 4 + 3 * 4 * ngf * area // 16
            maps += self.n_blocks * 6 * 4 * ngf * area // 16
            maps += 3 * 2 * ngf * area // 4 + 3 * ngf * area + 2 * channels * area
        else:
            # each level down and back up: conv, norm, activation on each side, at most 8 ngf maps
            maps = sum(6 * ngf * min(2 ** level, 8) * area // 4 ** (level + 1) for level in range(self.unet_downs))
            maps += 2 * channels * area
        return ModelSize(weights, maps)
