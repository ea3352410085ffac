"""The reference loop of docs/performance.md: the plain MNIST GAN that introductory texts give.

Written the plain way on purpose — a DataLoader that turns each uint8 digit into a PIL image, then
ToTensor and Normalize; Sigmoid + BCELoss; one D step then one G step reusing the fake batch — so
that `genstudio bench` can report our preset's throughput as a ratio against it in the same run.
"""

from __future__ import annotations

import time

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class PILDigits(Dataset):
    """Each item: a (28, 28) uint8 digit -> PIL image -> ToTensor -> Normalize to [-1, 1], (1, 28, 28)."""

    def __init__(self, images: torch.Tensor):
        self.images = images.squeeze(1).numpy()          # (N, 28, 28) uint8
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L"))


def reference_generator() -> nn.Module:
    return nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                         nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())


def reference_discriminator() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())


def endless(loader: DataLoader):
    """The loader's batches, epoch after epoch (a fresh shuffle each), as a training loop takes them."""
    while True:
        yield from loader


class ReferenceGAN:
    """Keeps its models, optimisers and loader between timed windows, so windows can alternate."""

    def __init__(self, images: torch.Tensor, batch_size: int = 64, seed: int = 0):
        torch.manual_seed(seed)
        self.G, self.D = reference_generator(), reference_discriminator()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loss = nn.BCELoss()
        self.batch_size = batch_size
        self.loader = DataLoader(PILDigits(images), batch_size=batch_size, shuffle=True, drop_last=True)
        self._batches = endless(self.loader)

    def step(self) -> None:
        real = next(self._batches).view(-1, 784)
        b = real.size(0)
        ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
        fake = self.G(torch.randn(b, 100))
        self.opt_d.zero_grad()
        d_loss = self.loss(self.D(real), ones) + self.loss(self.D(fake.detach()), zeros)
        d_loss.backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        g_loss = self.loss(self.D(fake), ones)
        g_loss.backward()
        self.opt_g.step()

    def images_per_second(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return steps * self.batch_size / (time.perf_counter() - start)
