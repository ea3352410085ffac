"""The translation family: CycleGAN between two image domains, one-to-one or multimodal (a style code)."""

from genstudio.core.families.demo_standard import TRANSLATION_BARS
from genstudio.core.families.family import Capability, DecodeSetting, DemoRecipe, Family, HyperField, PlotSpec, Preset
from genstudio.core.families.translation.config import TranslationConfig
from genstudio.core.families.translation.model import DIRECTIONS, CycleGAN

# The public code's optimiser (Adam 2e-4, betas 0.5 / 0.999), constant then falling linearly to 0.
HYPER = {"lr": 2e-4, "betas": [0.5, 0.999]}
# Small enough for two CPU cores on 28 px digits: 16 maps, 3 residual blocks, a 2-layer PatchGAN.
DIGITS = {"generator": "resnet", "ngf": 16, "n_blocks": 3, "ndf": 16, "d_layers": 2, "norm": "instance"}
DIGITS_HYPER = {**HYPER, "batch_size": 16, "decay_start": 1500, "decay_steps": 1500}

FAMILY = Family(
    name="translation",
    label="Image translation",
    description="CycleGAN: two generators translate between image domains A and B, held together by a "
                "cycle-consistency loss; optionally multimodal (a style code gives one input many outputs).",
    model_class=CycleGAN,
    config_class=TranslationConfig,
    presets={
        "cyclegan-digits": Preset(
            "CycleGAN for small images (28-64 px): ResNet generators of 16 maps with 3 residual blocks, "
            "2-layer PatchGANs, LSGAN, cycle lambda 10, identity 0.5, a pool of 50 fakes. Data: two domains "
            "(--data A=SPEC,B=SPEC, or the bundled pairs mnist-thick / mnist-inverted).",
            "images", DIGITS, DIGITS_HYPER),
        "multimodal-digits": Preset(
            "cyclegan-digits whose generators also take an 8-number style code (augmented CycleGAN / "
            "BicycleGAN's latent regression): one input, many outputs; the explorer's sliders are the code.",
            "images", {**DIGITS, "style_dim": 8}, DIGITS_HYPER),
        "cyclegan-256": Preset(
            "The paper's CycleGAN for 256 px RGB photos: ResNet-9 generators of 64 maps, 3-layer 70x70 "
            "PatchGANs, instance norm (a GPU's work: 11.4 M parameters per generator). Batch 4, not the "
            "paper's 1: a batch holds images of both domains.",
            "images", {"generator": "resnet", "ngf": 64, "n_blocks": 9, "ndf": 64, "d_layers": 3, "norm": "instance"},
            {**HYPER, "batch_size": 4, "decay_start": 100_000, "decay_steps": 100_000}),
    },
    plots=(PlotSpec("Discriminators (LSGAN)", ("d_a", "d_b")),
           PlotSpec("Generators (LSGAN)", ("g_ab", "g_ba")),
           PlotSpec("Cycle and identity, mean |error| in [0, 1]", ("cycle_a", "cycle_b", "identity_a",
                                                                  "identity_b", "style", "eval/cycle_a",
                                                                  "eval/cycle_b"))),
    hyper_fields=(HyperField("lr", "Learning rate", "Adam learning rate of the generators and discriminators",
                             learning_rate=True),
                  HyperField("decay_start", "Decay from step", "steps at the full learning rate before it "
                             "falls linearly", kind=int, minimum=0, maximum=10_000_000, decimals=0),
                  HyperField("decay_steps", "Decay over steps", "steps over which the learning rate falls "
                             "to 0 (0: no decay)", kind=int, minimum=0, maximum=10_000_000, decimals=0)),
    capabilities=frozenset({Capability.TRANSLATION}),
    # Thin digits <-> thick digits, multimodal (the explorer's sliders are the style code): 3,000 steps
    # at batch 16, the learning rate falling to 0 over the second half (about 20 minutes on 2 cores).
    demos=(DemoRecipe("translation-mnist", "multimodal-digits", steps=3000, data="mnist-thick",
                      standard=TRANSLATION_BARS),),
    decode_settings=(
        DecodeSetting("direction", "Direction", "translate the A images into B, or the B images into A",
                      kind=int, minimum=0, maximum=1, decimals=0, default=0, choices=DIRECTIONS),
    ),
)
