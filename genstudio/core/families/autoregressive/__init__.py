"""The autoregressive family: a gated PixelCNN with an exact likelihood over 8-bit pixels, sampled
pixel by pixel (a seed's normal latent fixes every draw), with image completion and per-pixel
surprise maps."""

from genstudio.core.families.autoregressive.config import PixelCNNConfig
from genstudio.core.families.autoregressive.model import PixelCNN
from genstudio.core.families.demo_standard import Bar
from genstudio.core.families.family import Capability, DecodeSetting, DemoRecipe, Family, HyperField, PlotSpec, Preset

# Sized for a 2-core CPU: about 0.2 GFLOP per 28 px digit forward, so a batch of 32 trains at a few
# steps per second, and a digit samples in well under a second.
DIGITS = {"width": 32, "layers": 6, "kernel": 3, "first_kernel": 7, "head": 64}
HYPER = {"lr": 1e-3, "batch_size": 32}

FAMILY = Family(
    name="autoregressive",
    label="Autoregressive (gated PixelCNN)",
    description="Generates an image one pixel at a time, each from a 256-way distribution given the pixels "
                "before it: an exact likelihood, and every pixel's probability on show.",
    model_class=PixelCNN,
    config_class=PixelCNNConfig,
    presets={
        "digits": Preset("Gated PixelCNN, 6 layers of 32 feature maps per stack: 28 px grey digits, trains on a "
                         "laptop CPU in well under an hour.", "images", DIGITS, HYPER),
        "digits-conditional": Preset("The digits PixelCNN with a per-layer class bias, trained with 10 % of labels "
                                     "dropped so it also samples without a class.", "images", DIGITS, HYPER,
                                     conditional=True),
        "rgb-32": Preset("Gated PixelCNN, 10 layers of 64 feature maps, R -> G -> B inside each pixel: 32 px RGB "
                         "folders (a GPU helps).", "images",
                         {"width": 64, "layers": 10, "kernel": 3, "first_kernel": 7, "head": 128},
                         {"lr": 5e-4, "batch_size": 16}),
    },
    plots=(PlotSpec("Bits per dimension (exact, 8-bit)", ("bits_per_dim", "eval/bits_per_dim")),),
    hyper_fields=(HyperField("lr", "Learning rate", "Adam learning rate", learning_rate=True),),
    capabilities=frozenset({Capability.EXACT_LIKELIHOOD, Capability.CLASS_CONDITIONAL,
                            Capability.SEQUENTIAL_DECODE, Capability.PIXEL_LIKELIHOOD,
                            Capability.COMPLETION}),
    # Trained on the first 9,000 bundled test digits, so the last 1,000 (`mnist[9000:]`) measure it
    # on digits it never saw; a second stage at a lower learning rate settles the weights.
    demos=(DemoRecipe("pixelcnn-mnist", "digits-conditional", steps=4000, data="mnist[:9000]",
                      refine_steps=1500, refine_hyper={"lr": 3e-4}, standard=(
                          Bar("eval/bits_per_dim", reference="gated PixelCNN on 60k training digits: under 1"),
                          Bar("signals", at_most=0), Bar("precision"), Bar("coverage"), Bar("frechet"))),),
    decode_settings=(
        DecodeSetting("softmax_temperature", "Softmax temperature",
                      "Divides every pixel's logits: below 1 the likeliest values (cleaner, less varied), above 1 "
                      "more varied", minimum=0.05, maximum=5.0, decimals=2, default=1.0, default_field="temperature"),
    ),
)
