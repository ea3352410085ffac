"""CycleGAN (Zhu et al. 2017) and a multimodal variant, as a genstudio model.

Two generators, G_AB: A -> B and G_BA: B -> A, and two PatchGAN discriminators, D_A (real A vs
G_BA's fakes) and D_B, trained with the least-squares GAN loss, the cycle loss
lambda * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1) and the identity loss
lambda * lambda_identity * (|G_AB(b) - b|_1 + |G_BA(a) - a|_1); D sees fakes through an image pool of
past ones; Adam 2e-4, betas (0.5, 0.999), constant for `decay_start` steps, then falling linearly to
0 over `decay_steps` (the public code's schedule, in steps rather than epochs).

Multimodal (`style_dim > 0`, in the manner of augmented CycleGAN and BicycleGAN's cLR-GAN): each
generator also takes a style code s (style_dim,), which sets the scales and shifts of its residual
blocks' instance norms (AdaIN, as in MUNIT; networks.StyledResnetGenerator), so one input has many outputs. A style encoder per domain, E_A and E_B, reads an
image's code; the cycle goes back with the input's own code (G_BA(G_AB(a, s), E_A(a)) ~ a), and
latent regression lambda_style * |E_B(G_AB(a, s)) - s|_1 keeps each code visible in the output.
The explorer's sliders are s; `decode(z)` translates the model's kept example inputs with style z.

Data: a two-domain set (data/domains.py) whose labels are the domain, 0 for A and 1 for B; a batch
holds images of both. Images are in [0, 1] outside the model and [-1, 1] inside, as in the public code.

A state dict of one public generator (io/cyclegan_reader.py) becomes a model with `directions = 1`:
G_AB only, nothing to train against, no round trip.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.errors import GenStudioError
from genstudio.core.families.base import GenerativeModel, adam
from genstudio.core.families.translation.config import TranslationConfig
from genstudio.core.families.translation.image_pool import ImagePool
from genstudio.core.families.translation.networks import NLayerDiscriminator, StyleEncoder, build_generator

AtoB, BtoA = 0, 1
DIRECTIONS = ("A -> B", "B -> A")


def _cycled(images: torch.Tensor, n: int) -> torch.Tensor:
    """The first n of images (k, C, H, W) repeated as often as needed: (n, C, H, W)."""
    return images.repeat(-(-n // len(images)), 1, 1, 1)[:n]


class CycleGAN(GenerativeModel):
    family = "translation"
    traceable_decode = True
    optimizer_names = ("g", "d")

    def __init__(self, config: TranslationConfig):
        super().__init__(config)
        cfg = config
        channels = cfg.data_shape[0]
        s = cfg.style_dim

        def generator() -> nn.Module:
            return build_generator(cfg.generator, channels, channels, ngf=cfg.ngf, norm=cfg.norm, dropout=cfg.dropout,
                                   n_blocks=cfg.n_blocks, unet_downs=cfg.unet_downs, style_dim=s)

        self.g_ab = generator()
        self.g_ba = generator() if cfg.directions == 2 else None
        trainable = cfg.directions == 2
        self.d_a = NLayerDiscriminator(channels, cfg.ndf, cfg.d_layers, cfg.norm) if trainable else None
        self.d_b = NLayerDiscriminator(channels, cfg.ndf, cfg.d_layers, cfg.norm) if trainable else None
        self.e_a = StyleEncoder(channels, s) if s else None
        self.e_b = StyleEncoder(channels, s) if s else None
        # Example inputs of each domain (k, C, H, W) in [0, 1], held-out images the engine gives
        # (keep_examples): what decode(z) translates, so a sample grid has inputs without a data set.
        k = cfg.examples
        self.register_buffer("examples_a", torch.zeros(k, *cfg.data_shape))
        self.register_buffer("examples_b", torch.zeros(k, *cfg.data_shape))
        self.register_buffer("examples_kept", torch.zeros(2, dtype=torch.long))     # how many of each
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))            # for the lr decay
        self.pool_a = ImagePool(cfg.pool_size)       # fakes of A for D_A
        self.pool_b = ImagePool(cfg.pool_size)
        self.base_lr: dict[str, float] = {}
        self.decay: tuple[int, int] = (0, 0)

    # --- shapes -------------------------------------------------------------------------------
    @property
    def style_dim(self) -> int:
        return self.config.style_dim

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The style code; a one-to-one CycleGAN has none, and its one latent number changes nothing."""
        return (max(self.config.style_dim, 1),)

    @property
    def directions(self) -> int:
        return self.config.directions

    # --- translation --------------------------------------------------------------------------
    def _generator(self, direction: int) -> nn.Module:
        if direction not in (AtoB, BtoA):
            raise GenStudioError(f"direction must be 0 (A -> B) or 1 (B -> A), not {direction!r}")
        if direction == BtoA and self.g_ba is None:
            raise GenStudioError("this model holds one generator (A -> B) only: it has no B -> A")
        return self.g_ab if direction == AtoB else self.g_ba

    def _run(self, direction: int, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        """x (n, C, H, W) in [-1, 1], style (n, style_dim) or None -> (n, C, H, W) in [-1, 1]."""
        if self.config.style_dim:
            return self._generator(direction)(x, style)      # AdaIN from the code (None: zeros, the prior's mean)
        return self._generator(direction)(x)

    def _style_of(self, domain: int, x: torch.Tensor) -> torch.Tensor | None:
        """The style code of images x (n, C, H, W) in [-1, 1] of `domain` (0: A, 1: B); None if one-to-one."""
        if not self.config.style_dim:
            return None
        return (self.e_a if domain == AtoB else self.e_b)(x)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, *, direction: int = AtoB, style: torch.Tensor | None = None) -> torch.Tensor:
        """Images x (n, C, H, W) in [0, 1] of the source domain -> (n, C, H, W) in [0, 1] of the other;
        `style` (n, style_dim) for a multimodal model (zeros when None)."""
        style = None if style is None else style.reshape(len(x), -1)[:, :self.config.style_dim].to(x.device)
        return self._run(direction, x * 2 - 1, style).add(1).mul(0.5).clamp(0, 1)

    @torch.no_grad()
    def round_trip(self, x: torch.Tensor, *, direction: int = AtoB,
                   style: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(translation, the translation translated back), each (n, C, H, W) in [0, 1]. The way back
        takes the input's own style code (a multimodal model), so it aims at x itself."""
        if self.g_ba is None:
            raise GenStudioError("this model holds one generator (A -> B) only: there is no way back")
        there = self.translate(x, direction=direction, style=style)
        back_style = self._style_of(direction, x * 2 - 1)
        back = self._run(1 - direction, there * 2 - 1, back_style).add(1).mul(0.5).clamp(0, 1)
        return there, back

    def examples(self, direction: int = AtoB) -> torch.Tensor:
        """The kept example inputs of the source domain of `direction`, (k, C, H, W) in [0, 1]."""
        examples = self.examples_a if direction == AtoB else self.examples_b
        if examples.is_meta:            # Family.size_of's build on the meta device: shapes only
            return examples
        kept = int(self.examples_kept[direction])
        if kept == 0:
            raise GenStudioError("this translation model keeps no example inputs (a generator read from its file): "
                                 "drop an image on the explorer, or run genstudio translate CKPT IMAGE")
        return examples[:kept]

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None, direction: int = AtoB,
               source=None) -> torch.Tensor:
        """Latents z (n, style_dim) -> `source` (the explorer's input: a SourceImage, core/explore/
        source_image.py) or else the kept example inputs (cycled to n) translated with style z:
        (n, C, H, W) in [0, 1]."""
        if source is not None:
            x = source.image.to(self.examples_a.device).reshape(1, *self.config.data_shape).expand(len(z), -1, -1, -1)
        else:
            inputs = self.examples(int(direction))
            x = _cycled(inputs, len(z))
        return self.translate(x, direction=int(direction), style=z.reshape(len(z), -1))

    @torch.no_grad()
    def triples(self, z: torch.Tensor) -> torch.Tensor:
        """For each style code in z (n, style_dim): an example of A, its translation and the round trip
        back, then the same from B: (n, 6, C, H, W) in [0, 1], what the Train tab's samples show."""
        rows = []
        for direction in (AtoB, BtoA):
            inputs = self.examples(direction)
            x = _cycled(inputs, len(z))
            there, back = self.round_trip(x, direction=direction, style=z.reshape(len(z), -1))
            rows += [x, there, back]
        return torch.stack(rows, 1)

    # --- training -----------------------------------------------------------------------------
    def make_optimizers(self, hyper: dict) -> dict[str, torch.optim.Optimizer]:
        if self.d_a is None:
            raise GenStudioError("a single generator read from a file has no discriminators: it cannot be trained")
        g_params = [*self.g_ab.parameters(), *self.g_ba.parameters()]
        if self.e_a is not None:
            g_params += [*self.e_a.parameters(), *self.e_b.parameters()]
        optimizers = {"g": adam(g_params, hyper, "lr"),
                      "d": adam([*self.d_a.parameters(), *self.d_b.parameters()], hyper, "lr")}
        self.base_lr = {name: float(hyper["lr"]) for name in optimizers}
        self.decay = (int(hyper.get("decay_start", 0)), int(hyper.get("decay_steps", 0)))
        return optimizers

    def _learning_rate_factor(self) -> float:
        """1 for decay_start steps, then down by equal steps to 0 after decay_steps more (the public
        code's linear rule: 1 - max(0, step - start) / (decay + 1))."""
        start, steps = self.decay
        if steps <= 0:
            return 1.0
        return max(0.0, 1.0 - max(0, int(self.steps) - start) / (steps + 1))

    @torch.no_grad()
    def keep_examples(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Keep the first `examples` images of each domain among x (n, C, H, W) in [0, 1] with domains
        y (n,) as the inputs decode(z) translates (the engine gives held-out images before training)."""
        for domain, kept in ((AtoB, self.examples_a), (BtoA, self.examples_b)):
            images = x[y == domain][:len(kept)]
            kept[:len(images)] = images.to(kept)
            self.examples_kept[domain] = len(images)

    @staticmethod
    def _lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
        return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))

    def train_step(self, x, y, optimizers):
        """x (B, C, H, W) in [0, 1] with y (B,) the domain of each image (0: A, 1: B)."""
        if y is None:
            raise GenStudioError("translation trains on two domains: give --data A=SPEC,B=SPEC or a bundled pair")
        a, b = x[y == AtoB], x[y == BtoA]
        # A batch drawn from one domain only (two-domain sets are balanced, so rarely, and at small
        # batches): the other side is one of its kept held-out examples, drawn at random.
        if len(a) == 0:
            a = self.examples(AtoB)[torch.randint(int(self.examples_kept[AtoB]), (1,))]
        if len(b) == 0:
            b = self.examples(BtoA)[torch.randint(int(self.examples_kept[BtoA]), (1,))]
        a, b = a * 2 - 1, b * 2 - 1
        cfg = self.config
        factor = self._learning_rate_factor()
        for name, optimizer in optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = self.base_lr.get(name, group["lr"]) * factor
        s = cfg.style_dim
        style_b = torch.randn(len(a), s, device=x.device) if s else None       # codes of the B outputs
        style_a = torch.randn(len(b), s, device=x.device) if s else None

        # Generators (and style encoders): D's weights are only read.
        self.d_a.requires_grad_(False)
        self.d_b.requires_grad_(False)
        fake_b = self._run(AtoB, a, style_b)
        fake_a = self._run(BtoA, b, style_a)
        back_a = self._run(BtoA, fake_b, self._style_of(AtoB, a))
        back_b = self._run(AtoB, fake_a, self._style_of(BtoA, b))
        g_ab = self._lsgan(self.d_b(fake_b), True)
        g_ba = self._lsgan(self.d_a(fake_a), True)
        cycle_a = F.l1_loss(back_a, a)
        cycle_b = F.l1_loss(back_b, b)
        loss = g_ab + g_ba + cfg.lambda_cycle * (cycle_a + cycle_b)
        out = {}
        if cfg.lambda_identity > 0:
            identity_b = F.l1_loss(self._run(AtoB, b, self._style_of(BtoA, b)), b)
            identity_a = F.l1_loss(self._run(BtoA, a, self._style_of(AtoB, a)), a)
            loss = loss + cfg.lambda_cycle * cfg.lambda_identity * (identity_a + identity_b)
            out.update(identity_a=identity_a.detach() / 2, identity_b=identity_b.detach() / 2)   # [0, 1] units
        if s:
            style = F.l1_loss(self.e_b(fake_b), style_b) + F.l1_loss(self.e_a(fake_a), style_a)
            loss = loss + cfg.lambda_style * style
            out["style"] = style.detach()
        optimizers["g"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["g"].step()
        self.d_a.requires_grad_(True)
        self.d_b.requires_grad_(True)

        # Discriminators: real against the pool's fakes, each loss halved (the public code's D rate).
        d_a = 0.5 * (self._lsgan(self.d_a(a), True) + self._lsgan(self.d_a(self.pool_a.query(fake_a)), False))
        d_b = 0.5 * (self._lsgan(self.d_b(b), True) + self._lsgan(self.d_b(self.pool_b.query(fake_b)), False))
        optimizers["d"].zero_grad(set_to_none=True)
        (d_a + d_b).backward()
        optimizers["d"].step()
        self.steps += 1
        return {"d_a": d_a.detach(), "d_b": d_b.detach(), "g_ab": g_ab.detach(), "g_ba": g_ba.detach(),
                "cycle_a": cycle_a.detach() / 2, "cycle_b": cycle_b.detach() / 2,   # in [0, 1] pixel units
                "lr": x.new_tensor(factor * self.base_lr["g"]), **out}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Held-out cycle errors: mean |x - back(there(x))| in [0, 1] pixel units, per domain."""
        if y is None or self.g_ba is None:
            return {}
        out = {}
        for domain, key in ((AtoB, "cycle_a"), (BtoA, "cycle_b")):
            images = x[y == domain]
            if len(images):
                _, back = self.round_trip(images, direction=domain)
                out[key] = (back - images).abs().mean()
        return out
