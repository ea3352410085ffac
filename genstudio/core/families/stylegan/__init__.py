"""The style-based GAN family: StyleGAN2's generator (mapping network, learned constant, modulated
convolutions, noise inputs, toRGB skips) with truncation in W, trained against a spectral-norm conv
discriminator (the digits presets) or NVIDIA's residual one with R1 (rgb-64); NVIDIA
stylegan2-ada-pytorch snapshots convert to it (nvidia_pickle.py, nvidia.py; read by core/io/stylegan_reader.py)."""

from genstudio.core.families.demo_standard import SAMPLE_BARS
from genstudio.core.families.family import Capability, DecodeSetting, DemoRecipe, Family, HyperField, PlotSpec, Preset
from genstudio.core.families.stylegan.config import StyleGANConfig
from genstudio.core.families.stylegan.model import DETAIL_FULL, DETAIL_LEVELS, NOISE_FIXED, StyleGAN
from genstudio.core.families.stylegan.style_space import W_SPACE

# The digits presets: G at StyleGAN2's rate for its equalized learning rate (2e-3, betas 0 / 0.99);
# the spectral-norm D at the hinge GANs' 4e-4, betas 0 / 0.9 (model.py says why not R1 here).
HYPER = {"lr_g": 2e-3, "lr_d": 4e-4, "betas": [0.0, 0.99], "d_betas": [0.0, 0.9], "batch_size": 32}
# 28-32 px: a 128-D z and w, 4 mapping layers, 64 feature maps at 4-16 px and 32 at 32 px in G, and
# a 64-128-256-map spectral-norm conv D, so a batch of 32 trains in about 0.2 s on two CPU cores.
DIGITS = {"z_dim": 128, "w_dim": 128, "mapping_layers": 4, "channel_base": 1024, "channel_max": 64,
          "d_channel_base": 1024, "d_channel_max": 64, "loss": "hinge-sn"}
# NVIDIA's recipe, for GPUs: residual D, non-saturating loss with lazy R1, rate 2e-3 for both.
RGB_64 = {"z_dim": 256, "w_dim": 256, "mapping_layers": 8, "channel_base": 8192, "channel_max": 256,
          "d_channel_base": 8192, "d_channel_max": 256, "loss": "r1", "r1_gamma": 1.0}

FAMILY = Family(
    name="stylegan",
    label="Style-based GAN (StyleGAN2)",
    description="A GAN whose generator maps z to a style vector w that modulates every layer: explore Z, W and W+ "
                "with truncation, style mixing and noise; opens NVIDIA StyleGAN2-ADA pickles without running them.",
    model_class=StyleGAN,
    config_class=StyleGANConfig,
    presets={
        "digits": Preset("StyleGAN2 for 28-32 px grey or RGB images: 128-D z and w, 4 mapping layers, 32-64 "
                         "feature maps; hinge loss against a spectral-norm conv D, style mixing, EMA G.",
                         "images", DIGITS, HYPER),
        "digits-conditional": Preset("The digits StyleGAN2 with the class embedded beside z and a projection "
                                     "discriminator (needs a labelled data set).", "images", DIGITS, HYPER,
                                     conditional=True),
        "rgb-64": Preset("StyleGAN2 for 64 px RGB folders: 256-D z and w, 8 mapping layers, 128-256 feature maps, "
                         "NVIDIA's residual D with the non-saturating loss and R1 gamma 1 (a GPU helps).", "images",
                         RGB_64, {"lr_g": 2e-3, "lr_d": 2e-3, "betas": [0.0, 0.99], "batch_size": 16}),
    },
    plots=(PlotSpec("Losses", ("d_loss", "g_loss")),
           PlotSpec("Discriminator outputs: D(x), D(G(z))", ("d_real", "d_fake")),
           PlotSpec("R1 penalty |grad D(x)|^2 (loss r1; the hinge / SN D needs none)", ("r1_penalty",))),
    hyper_fields=(HyperField("lr_g", "G learning rate", "generator learning rate", learning_rate=True),
                  HyperField("lr_d", "D learning rate", "discriminator learning rate", learning_rate=True)),
    capabilities=frozenset({Capability.IMAGE_PROJECTION, Capability.CLASS_CONDITIONAL,
                            Capability.LIVE_DIAGNOSTICS, Capability.STYLE_SPACE}),
    # The digits preset: `genstudio train --family stylegan --preset digits --steps 10000` (seed 0; about
    # 50 minutes on one CPU core), adopted with make_demo_checkpoints.py --adopt. Weights only, 5.6 MB.
    demos=(DemoRecipe("stylegan-mnist", "digits", steps=10000, seed=0, standard=SAMPLE_BARS),),
    decode_settings=(
        DecodeSetting("truncation_psi", "Truncation psi",
                      "Pulls w towards the mean w: 1 leaves it, 0 gives the mean image, between trades variety "
                      "for typical images", minimum=0.0, maximum=2.0, decimals=2, default=1.0, slider=True),
        DecodeSetting("truncation_cutoff", "Truncation up to layer",
                      "Truncate only the first this many w's (coarse layers first); 0 truncates them all",
                      kind=int, minimum=0, maximum=18, decimals=0, default=0),
        DecodeSetting("noise", "Noise",
                      "The per-pixel noise inputs: the model's fixed noise, fresh noise at each decode, or none",
                      kind=int, minimum=0, maximum=2, decimals=0, default=NOISE_FIXED,
                      choices=("fixed", "fresh each decode", "off")),
        DecodeSetting("mix_layers", "Mix styles on",
                      "Style mixing: these layers take their w from the mixing seed's latent (coarse: the first 4 "
                      "w's, pose and shape; middle: the next 4; fine: the rest, colour and texture)",
                      kind=int, minimum=0, maximum=3, decimals=0, default=0,
                      choices=("no layers", "coarse layers", "middle layers", "fine layers")),
        DecodeSetting("mix_seed", "Mixing seed", "The seed whose styles the chosen layers take", kind=int,
                      minimum=0, maximum=2**31 - 1, decimals=0, default=1),
        # A generator too slow for the hand (over 40 ms a decode: 256 px and up on a CPU) is drawn at an
        # eighth of its resolution while a slider moves, and in full when it rests.
        DecodeSetting("detail", "Resolution",
                      "Draw the image only up to a fraction of the generator's resolution and enlarge it (its "
                      "own coarser picture, much faster); the explorer previews this way while you drag a "
                      "slider of a slow generator", kind=int, minimum=0, maximum=DETAIL_FULL, decimals=0,
                      default=DETAIL_FULL, choices=DETAIL_LEVELS, preview_field="preview_detail",
                      preview_above_ms=40.0),
    ),
    latent_spaces=(W_SPACE,),
)
