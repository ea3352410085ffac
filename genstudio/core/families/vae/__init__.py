"""The VAE family: MLP or conv encoder/decoder, Bernoulli or Gaussian likelihood, beta."""

from genstudio.core.families.demo_standard import Bar
from genstudio.core.families.family import Capability, DemoRecipe, Family, HyperField, PlotSpec, Preset
from genstudio.core.families.vae.config import VAEConfig, v1_defaults
from genstudio.core.families.vae.model import VAE

HYPER = {"lr": 1e-3, "batch_size": 128}

FAMILY = Family(
    name="vae",
    label="VAE",
    description="Variational autoencoders: an encoder q(z|x) and a decoder p(x|z) trained on the ELBO.",
    model_class=VAE,
    config_class=VAEConfig,
    presets={
        "mlp": Preset("MLP VAE, 16-D latent, Bernoulli pixels: sharp MNIST digits in a few CPU minutes.", "images",
                      {"arch": "mlp", "latent_dim": 16, "hidden": [512, 256], "likelihood": "bernoulli", "beta": 1.0},
                      HYPER),
        "conv": Preset("Conv VAE, 16-D latent (28, 32 or 64 px; grey or RGB), Bernoulli pixels.", "images",
                       {"arch": "conv", "latent_dim": 16, "channels": 32, "likelihood": "bernoulli", "beta": 1.0},
                       HYPER),
        "map": Preset("MLP VAE with a 2-D latent: the latent map shows the data set directly.", "images",
                      {"arch": "mlp", "latent_dim": 2, "hidden": [512, 256], "likelihood": "bernoulli", "beta": 1.0},
                      HYPER),
        "toy": Preset("Small MLP VAE with a Gaussian likelihood for the 2-D mixtures.", "points",
                      {"arch": "mlp", "latent_dim": 2, "hidden": [128, 128], "likelihood": "gaussian", "beta": 1.0},
                      {"lr": 1e-3, "batch_size": 256}),
    },
    plots=(PlotSpec("Loss (-ELBO) and reconstruction, nats", ("loss", "recon", "eval/recon")),
           PlotSpec("KL, nats", ("kl", "eval/kl"))),
    hyper_fields=(HyperField("lr", "Learning rate", "Adam learning rate", learning_rate=True),),
    capabilities=frozenset({Capability.ENCODE, Capability.KL_PER_DIMENSION, Capability.POINTS}),
    # 2-D latent VAE: the latent map shows the digits directly.
    demos=(DemoRecipe("vae-mnist", "map", steps=4000, model={"hidden": [256, 256]}, standard=(
        Bar("eval/elbo", reference="nats; an MLP VAE with a 50-D latent: test NLL 86.76 on binarized MNIST, "
                                    "Burda et al. 2016; this one keeps a 2-D latent for the map"),
        Bar("signals"), Bar("frechet"))),),
    v1_defaults=v1_defaults,
)
