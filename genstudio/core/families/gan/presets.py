"""The GAN presets: what `genstudio train --family gan --preset NAME` and the Train panel start from."""

from genstudio.core.families.family import Preset

MLP_HYPER = {"lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999], "batch_size": 64}
MLP_MODEL = {"arch": "mlp", "latent_dim": 100, "g_hidden": [256, 512, 1024], "d_hidden": [1024, 512, 256],
             "dropout": 0.3, "loss": "bce"}
CONV_MODEL = {"arch": "conv", "latent_dim": 64, "g_channels": 64, "d_channels": 64}
HINGE_SN_MODEL = {**CONV_MODEL, "loss": "hinge", "spectral_norm": True, "ema_decay": 0.999}
HINGE_SN_HYPER = {"lr_g": 1e-4, "lr_d": 4e-4, "betas": [0.0, 0.9], "batch_size": 64}

PRESETS = {
    "mlp": Preset("The classic MNIST GAN: MLP G 100-256-512-1024-784, MLP D with dropout, BCE, Adam 2e-4.",
                  "images", MLP_MODEL, MLP_HYPER),
    "mlp-conditional": Preset("The MLP GAN conditioned on the class label (needs a labelled data set).",
                              "images", MLP_MODEL, MLP_HYPER, conditional=True),
    "dcgan": Preset("DCGAN-style conv G and D with batch norm, BCE (28, 32 or 64 px; grey or RGB).",
                    "images", {**CONV_MODEL, "loss": "bce"},
                    {"lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999], "batch_size": 64}),
    "dcgan-hinge-sn": Preset("Conv GAN with hinge loss, spectral-norm D, two time-scale learning rates and an EMA G.",
                             "images", HINGE_SN_MODEL, HINGE_SN_HYPER),
    "dcgan-hinge-sn-conditional": Preset(
        "The hinge / spectral-norm conv GAN conditioned on the class label: G sees the label's embedding, "
        "D is a projection discriminator (Miyato & Koyama 2018). Needs a labelled data set.",
        "images", HINGE_SN_MODEL, HINGE_SN_HYPER, conditional=True),
    "wgan-gp": Preset("Conv WGAN with gradient penalty (lambda 10) and 5 critic steps per G step.",
                      "images", {**CONV_MODEL, "loss": "wgan-gp", "gp_weight": 10.0, "d_steps": 5},
                      {"lr_g": 1e-4, "lr_d": 1e-4, "betas": [0.5, 0.9], "batch_size": 64}),
    "toy": Preset("Vanilla MLP GAN for the 2-D mixtures (ring-8, grid-25): the mode-collapse baseline.",
                  "points", {"arch": "mlp", "latent_dim": 2, "g_hidden": [128, 128, 128], "d_hidden": [128, 128, 128],
                             "dropout": 0.0, "loss": "bce", "activation": "relu"},
                  {"lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.999], "batch_size": 256}),
    # Measured with training/toy_mode_benchmark.py (5 seeds, 12k steps): all 8 / 25 modes at >= 95 % HQ.
    # Why each part: a plain ReLU D on raw coordinates learns the 0.05-std grid blobs too slowly to
    # guide G (it sits at D(real) = D(fake)), so D sees random Fourier features of each point; a BCE D
    # on those features wins outright and G collapses onto one or a few modes, so the loss is WGAN-GP,
    # whose 1-Lipschitz critic pulls G towards every mode; the EMA G averages out Adam's jitter,
    # which alone keeps several % of samples just outside the 3-std radius.
    "toy-best": Preset("WGAN-GP for the 2-D mixtures with Fourier features of the points in D and an EMA G: "
                       "covers every mode of ring-8 and grid-25 with >= 95 % high-quality samples.",
                       "points", {"arch": "mlp", "latent_dim": 2, "g_hidden": [128, 128, 128],
                                  "d_hidden": [128, 128, 128], "dropout": 0.0, "activation": "relu",
                                  "loss": "wgan-gp", "gp_weight": 1.0, "d_steps": 1, "d_fourier_features": 32,
                                  "d_fourier_scale": 1.0, "ema_decay": 0.999},
                       {"lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.9], "batch_size": 512}),
}
