"""genstudio: train, load and explore generative models through their latent spaces."""

__version__ = "0.1.0"
