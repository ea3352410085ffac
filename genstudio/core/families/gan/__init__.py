"""The GAN family: MLP and conv GANs (BCE, hinge, WGAN-GP), conditional, for images and 2-D points."""

from genstudio.core.families.demo_standard import SAMPLE_BARS, Bar
from genstudio.core.families.family import Capability, DecodeSetting, DemoRecipe, Family, HyperField, PlotSpec
from genstudio.core.families.gan.config import GANConfig, v1_defaults
from genstudio.core.families.gan.model import GAN
from genstudio.core.families.gan.presets import PRESETS

FAMILY = Family(
    name="gan",
    label="GAN",
    description="Generative adversarial networks: a generator G against a discriminator D.",
    model_class=GAN,
    config_class=GANConfig,
    presets=PRESETS,
    plots=(PlotSpec("Losses", ("d_loss", "g_loss", "gradient_penalty")),
           PlotSpec("Discriminator outputs: D(x), D(G(z))", ("d_real", "d_fake"))),
    hyper_fields=(HyperField("lr_g", "G learning rate", "generator learning rate", learning_rate=True),
                  HyperField("lr_d", "D learning rate", "discriminator learning rate", learning_rate=True)),
    capabilities=frozenset({Capability.IMAGE_PROJECTION, Capability.CLASS_CONDITIONAL, Capability.POINTS,
                            Capability.DECISION_SURFACE, Capability.LIVE_DIAGNOSTICS}),
    # Class-conditional conv GAN, hinge loss, spectral-norm projection D, EMA G (64 channels, 64-D
    # latent): `genstudio train --family gan --preset dcgan-hinge-sn-conditional --steps 24000`
    # (seed 0; 54 minutes: 16k steps on one CPU core, 8k on two), adopted with make_demo_checkpoints.py --adopt.
    demos=(DemoRecipe("gan-mnist", "dcgan-hinge-sn-conditional", steps=24000, seed=0,
                      standard=SAMPLE_BARS + (Bar("classes_within_2x", at_least=10),)),),
    decode_settings=(
        DecodeSetting("truncation", "Truncation threshold (0: off)",
                      "BigGAN's truncation trick: latents restricted to +-this many standard deviations; smaller "
                      "trades variety for typical samples", minimum=0.0, maximum=4.0, decimals=2, default=0.0),
    ),
    v1_defaults=v1_defaults,
)
