"""The reference DCGAN loop for `genstudio bench`: our `dcgan` preset's architecture, trained the way
the PyTorch examples' DCGAN (examples/dcgan/main.py) trains it.

Written the plain way on purpose, so that the bench can report the preset's throughput as a ratio
against it in the same run: a Dataset that turns each uint8 digit into a PIL image, then Resize
(32 and 64 px), ToTensor and Normalize; DataLoader(shuffle=True); D ends in a Sigmoid and is scored
with BCELoss; D's real and fake batches go through D in separate passes, each backward on its own;
default Adam (lr 2e-4, betas 0.5, 0.999); the G step reuses the fake batch and lets D's weights
collect gradients that the next zero_grad throws away.

The networks match genstudio/core/families/gan/model.py layer for layer (ConvGenerator,
ConvFeatures + Discriminator head, `_dcgan_init`), so the parameter counts are equal at 28, 32 and
64 px; only the Sigmoid (a BCE-on-logits in ours) differs, and it has no parameters.
"""

from __future__ import annotations

import time

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from genstudio.bench.reference_gan import endless

LATENT = 64          # the dcgan preset's latent_dim
WIDTH = 64           # its g_channels and d_channels
# Image side -> (base resolution, number of 2x up/down-samplings), as the preset plans them.
PLANS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def plan(size: int) -> tuple[int, int]:
    if size not in PLANS:
        raise ValueError(f"the reference DCGAN is built for 28, 32 or 64 px images (got {size})")
    return PLANS[size]


class PILDigits(Dataset):
    """Each item: a (28, 28) uint8 digit -> PIL image -> Resize(size) -> ToTensor -> Normalize to
    [-1, 1]: (1, size, size) float32."""

    def __init__(self, images: torch.Tensor, size: int):
        self.images = images.squeeze(1).numpy()          # (N, 28, 28) uint8
        steps = [transforms.Resize(size)] if size != self.images.shape[-1] else []
        self.transform = transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L"))


def reference_generator(size: int, channels: int = 1) -> nn.Sequential:
    """(B, 64) -> (B, channels, size, size): Linear to (c0, b, b) with batch norm, then 4x4 stride-2
    transposed convs halving the channels, Tanh."""
    base, n_up = plan(size)
    c = WIDTH * 2 ** (n_up - 1)
    layers: list[nn.Module] = [nn.Linear(LATENT, c * base * base), nn.BatchNorm1d(c * base * base), nn.ReLU(True),
                               nn.Unflatten(1, (c, base, base))]
    for _ in range(n_up - 1):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
        c //= 2
    layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def reference_discriminator(size: int, channels: int = 1) -> nn.Sequential:
    """(B, channels, size, size) -> (B, 1) probabilities: 4x4 stride-2 convs doubling the channels,
    batch norm after all but the first, a linear head and a Sigmoid."""
    base, n_down = plan(size)
    layers: list[nn.Module] = [nn.Conv2d(channels, WIDTH, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    c = WIDTH
    for _ in range(n_down - 1):
        layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, inplace=True)]
        c *= 2
    layers += [nn.Flatten(), nn.Linear(c * base * base, 1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def weights_init(module: nn.Module) -> None:
    """The examples' initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ReferenceDCGAN:
    """Keeps its models, optimisers and loader between timed windows, so windows can alternate.

    `images`: (N, 1, 28, 28) uint8 on the CPU, resized per item to `size`."""

    def __init__(self, images: torch.Tensor, size: int = 64, batch_size: int = 64, seed: int = 0):
        torch.manual_seed(seed)
        self.G, self.D = reference_generator(size), reference_discriminator(size)
        self.G.apply(weights_init)
        self.D.apply(weights_init)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loss = nn.BCELoss()
        self.batch_size = batch_size
        self.loader = DataLoader(PILDigits(images, size), batch_size=batch_size, shuffle=True, drop_last=True)
        self._batches = endless(self.loader)

    def step(self) -> dict[str, float]:
        """One D step (real pass, backward; fake pass, backward) then one G step; the losses."""
        real = next(self._batches)
        b = real.size(0)
        ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
        self.D.zero_grad()
        d_real = self.loss(self.D(real), ones)
        d_real.backward()
        fake = self.G(torch.randn(b, LATENT))
        d_fake = self.loss(self.D(fake.detach()), zeros)
        d_fake.backward()
        self.opt_d.step()
        self.G.zero_grad()
        g_loss = self.loss(self.D(fake), ones)
        g_loss.backward()
        self.opt_g.step()
        return {"d_loss": d_real.item() + d_fake.item(), "g_loss": g_loss.item()}

    def images_per_second(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return steps * self.batch_size / (time.perf_counter() - start)
