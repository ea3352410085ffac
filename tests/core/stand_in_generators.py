"""Stand-in generators for the diagnostics tests: the decode / sample_latents / data_shape API of
genstudio's models and foreign files, with outputs whose right verdicts are known."""

import math

import torch
from torch import nn

class Replay(nn.Module):
    """'Generates' stored images in a fixed order, each once: real data posing as a generator."""

    family = "replay"
    smooth_latent = False        # the latent is ignored: images come in stored order

    def __init__(self, images: torch.Tensor):
        super().__init__()
        self.images = images
        self.data_shape = tuple(images.shape[1:])
        self.latent_dim = 4
        self.cursor = 0

    def sample_latents(self, n, generator=None):
        return torch.randn(n, self.latent_dim, generator=generator)

    def decode(self, z, labels=None):
        index = torch.arange(self.cursor, self.cursor + len(z)) % len(self.images)
        self.cursor += len(z)
        return self.images[index].float() / 255


class OneDigit(nn.Module):
    """A collapsed generator: whatever the latent, the same MNIST '1'."""

    family = "collapsed"

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.register_buffer("image", image.float() / 255)       # (1, 28, 28)
        self.data_shape = tuple(image.shape)
        self.latent_dim = 8

    def sample_latents(self, n, generator=None):
        return torch.randn(n, self.latent_dim, generator=generator)

    def decode(self, z, labels=None):
        return self.image.expand(len(z), *self.data_shape).clone()


class MixtureSampler(nn.Module):
    """Exact samples of a 2-D mixture as a function of the latent: mode from z0, offset from z1, z2."""

    def __init__(self, mixture, only_mode: int | None = None):
        super().__init__()
        self.mixture, self.only_mode = mixture, only_mode
        self.data_shape = (2,)
        self.latent_dim = 3

    def sample_latents(self, n, generator=None):
        return torch.randn(n, 3, generator=generator)

    def decode(self, z, labels=None):
        uniform = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        mode = (uniform * self.mixture.num_modes).long().clamp_max(self.mixture.num_modes - 1)
        if self.only_mode is not None:
            mode = torch.full_like(mode, self.only_mode)
        return self.mixture.centres[mode] + self.mixture.std * z[:, 1:3]


