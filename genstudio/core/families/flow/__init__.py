"""The flow family: RealNVP-style normalizing flows with exact likelihood and exact inverse."""

from genstudio.core.families.demo_standard import Bar
from genstudio.core.families.family import Capability, DemoRecipe, Family, HyperField, PlotSpec, Preset
from genstudio.core.families.flow.config import IMAGE_FIELDS, POINT_FIELDS, FlowConfig, v1_defaults
from genstudio.core.families.flow.model import Flow

DEFAULTS = FlowConfig().to_dict()

FAMILY = Family(
    name="flow",
    label="Normalizing flow",
    description="Invertible networks trained by exact maximum likelihood (RealNVP).",
    model_class=Flow,
    config_class=FlowConfig,
    presets={
        "realnvp": Preset(
            "RealNVP multi-scale flow for 28x28 digits, small enough to train on a laptop CPU in minutes "
            "(3 scales x 3 couplings, 32-channel one-block ResNets).", "images",
            {k: DEFAULTS[k] for k in IMAGE_FIELDS},
            # Batch 16: on 2 CPU cores the step time per image is flat from 16 to 64, and per image seen
            # 16 learns fastest (held-out bits/dim after 38k MNIST images: 1.79 at 16, 2.01 at 32,
            # 2.18 at 64; lr 2e-3 was no better).
            {"lr": 1e-3, "batch_size": 16, "betas": [0.9, 0.999], "weight_decay": 0.0, "grad_clip": 100.0}),
        "toy": Preset("Eight affine couplings with 128-unit MLPs for the 2-D mixtures (ring-8, grid-25).", "points",
                      {k: DEFAULTS[k] for k in POINT_FIELDS},
                      {"lr": 1e-3, "batch_size": 256, "betas": [0.9, 0.999], "weight_decay": 0.0, "grad_clip": 100.0}),
    },
    plots=(PlotSpec("Bits per dimension", ("bits_per_dim", "eval/bits_per_dim", "nll", "eval/nll")),
           PlotSpec("Invertibility error (max |x - f\u207b\u00b9(f(x))|)", ("eval/invertibility_error",))),
    hyper_fields=(HyperField("lr", "Learning rate", "Adam learning rate", learning_rate=True),
                  HyperField("grad_clip", "Gradient clip", "largest gradient norm", minimum=0.01, maximum=1e6,
                             decimals=2)),
    capabilities=frozenset({Capability.ENCODE, Capability.EXACT_LIKELIHOOD, Capability.POINTS}),
    # RealNVP flow, exact bits/dim: 24k steps of batch 16 (~43 epochs of the 9,000 training digits),
    # then 6k at a third of the learning rate; 72 minutes on one CPU core, 1.30 bits/dim held out.
    demos=(DemoRecipe("flow-mnist", "realnvp", steps=24000, refine_steps=6000, refine_hyper={"lr": 3e-4}, standard=(
        Bar("eval/bits_per_dim", at_most=1.3, reference="RealNVP 1.06 published, 60k training digits"),
        Bar("signals"), Bar("frechet"))),),
    v1_defaults=v1_defaults,
)
