"""The diffusion family: DDPM training (U-Net or MLP denoiser, linear or cosine schedule, EMA,
classifier-free guidance) explored through DDIM latents, inversion and SDEdit variations."""

from genstudio.core.families.demo_standard import SAMPLE_BARS
from genstudio.core.families.diffusion.config import DiffusionConfig
from genstudio.core.families.diffusion.model import Diffusion
from genstudio.core.families.family import Capability, DecodeSetting, DemoRecipe, Family, HyperField, PlotSpec, Preset

DIGITS = {"arch": "unet", "channels": 16, "channel_mults": [1, 2, 2], "res_blocks": 1, "attention": True,
          "schedule": "linear", "ema_decay": 0.999}
RGB = {"arch": "unet", "channels": 32, "res_blocks": 2, "attention": True, "schedule": "cosine", "dropout": 0.1,
       "ema_decay": 0.9995}
HYPER = {"lr": 1e-3, "batch_size": 128}

FAMILY = Family(
    name="diffusion",
    label="Diffusion (DDPM / DDIM)",
    description="Denoising diffusion: a network learns to remove noise; DDIM turns starting noise x_T into an "
                "image, deterministically, so x_T is a latent to explore.",
    model_class=Diffusion,
    config_class=DiffusionConfig,
    presets={
        "digits": Preset("Small U-Net (16/32/32 channels, attention at 7x7), linear schedule, EMA: 28 px grey "
                         "digits, fast enough to drag on a CPU.", "images", DIGITS, HYPER),
        "digits-conditional": Preset("The digits U-Net conditioned on the class, trained with 10 % of labels "
                                     "dropped, so classifier-free guidance works.", "images",
                                     {**DIGITS, "label_dropout": 0.1, "guidance": 1.0}, HYPER, conditional=True),
        "rgb-32": Preset("U-Net 32/64/64 channels, 2 residual blocks per level, cosine schedule: 32 px RGB folders.",
                         "images", {**RGB, "channel_mults": [1, 2, 2]}, {"lr": 2e-4, "batch_size": 64}),
        "rgb-64": Preset("U-Net 32/64/64/64 channels, 2 residual blocks per level, cosine schedule: 64 px RGB folders.",
                         "images", {**RGB, "channel_mults": [1, 2, 2, 2]}, {"lr": 2e-4, "batch_size": 32}),
        "toy": Preset("MLP denoiser (3 x 256) for the 2-D mixtures (ring-8, grid-25), 100 DDIM steps.", "points",
                      {"arch": "mlp", "hidden": [256, 256, 256], "embedding_dim": 128, "schedule": "linear",
                       "ema_decay": 0.999, "sample_steps": 100, "preview_steps": 10},
                      {"lr": 1e-3, "batch_size": 512}),
    },
    plots=(PlotSpec("Denoising loss: MSE of the predicted noise", ("loss", "eval/loss")),
           PlotSpec("Loss by noise level: q1 least noise (t < T/4) .. q4 most", ("loss_q1", "loss_q2", "loss_q3",
                                                                                 "loss_q4"))),
    hyper_fields=(HyperField("lr", "Learning rate", "Adam learning rate", learning_rate=True),),
    capabilities=frozenset({Capability.ENCODE, Capability.CLASS_CONDITIONAL, Capability.POINTS,
                            Capability.VARIATIONS}),
    decode_settings=(
        DecodeSetting("steps", "Sampling steps", "DDIM steps from x_T to the image: more is slower and finer",
                      kind=int, minimum=1, maximum=1000, decimals=0, default=20, default_field="sample_steps",
                      preview_field="preview_steps", maximum_field="timesteps"),
        DecodeSetting("eta", "Eta", "0: deterministic DDIM (one image per latent); 1: DDPM-like fresh noise each step",
                      minimum=0.0, maximum=1.0, decimals=2),
        DecodeSetting("guidance", "Guidance", "Classifier-free guidance w: eps = (1 + w) eps(x, class) - w eps(x); "
                      "more is truer to the class, less varied", minimum=0.0, maximum=20.0, decimals=1,
                      default_field="guidance", conditional=True),
    ),
    # The digits U-Net: ~2 MB with its EMA copy; 20 DDIM steps decode a digit in about 0.2 s on one core.
    demos=(DemoRecipe("diffusion-mnist", "digits", steps=5000, hyper={"batch_size": 64},
                      refine_steps=8000, refine_hyper={"lr": 5e-4}, standard=SAMPLE_BARS),),
)
