"""`genstudio sample`: a grid of samples, or the image of a latent record saved by the app.

Families whose decoder has settings (Family.decode_settings: a diffusion sampler's steps, eta,
guidance) get a flag for each; they are generated from the registry, so a new family's settings
appear here with no edit. A latent record carries the settings the app showed it with; flags
override them; a flag the checkpoint's family does not take is refused with the reason.

Latent spaces a family declares beyond Z (Family.latent_spaces: StyleGAN's W) come from the registry
too: a latent record's edit in one is drawn with the space's principal directions recomputed (they
are seeded), and a space with a mixing grid gets its flag (`--style-mix A,../B,..` with `--layers`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from genstudio.cli.arguments import add_foreign_options, foreign_consent, grid
from genstudio.core.errors import GenStudioError, check_finite, first_line

NAME = "sample"


def add_parser(sub) -> None:
    sample = sub.add_parser(NAME, help="write an image grid from a checkpoint or foreign generator")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("--grid", type=grid, default=(8, 8), help="rows x cols (default 8x8)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", type=Path, default=Path("grid.png"))
    sample.add_argument("--padding", type=int, default=2)
    sample.add_argument("--scale", type=int, default=1, help="integer upscaling of the grid")
    sample.add_argument("--temperature", type=float, default=1.0, help="latent scale (flows: sampling temperature)")
    sample.add_argument("--latent", type=Path, metavar="FILE",
                        help="render this latent record (the app's File > Save latent as JSON) instead of a grid")
    for key, (setting, owners) in _decode_settings().items():
        named = f"; {', '.join(f'{i} {name}' for i, name in enumerate(setting.choices))}" if setting.choices else ""
        sample.add_argument(setting.flag, dest=f"decode_{key}", type=_number(setting),
                            metavar=setting.kind.__name__.upper(),
                            help=f"{(setting.help or setting.label).replace('%', '%%')} ({', '.join(owners)}{named}; "
                                 f"default: the model's)")
    mixings = _mixings()
    for flag, (mixing, owners) in mixings.items():
        sample.add_argument(flag, dest=_mixing_dest(flag), metavar="A,../B,..",
                            help=f"{mixing.help} ({', '.join(owners)})".replace("%", "%%"))
    if mixings:
        sample.add_argument("--layers", help="; ".join(f"with {flag}: {mixing.layers_help} (default {mixing.default_layers})"
                                                       for flag, (mixing, _) in mixings.items()))
    add_foreign_options(sample)


def _mixings() -> dict:
    """Every registered family's latent spaces' mixing grids, once per flag: {flag: (mixing, families)}."""
    from genstudio.core import registry

    mixings = {}
    for family in registry.families():
        for space in family.latent_spaces:
            if space.mixing is not None:
                mixings.setdefault(space.mixing.flag, (space.mixing, []))[1].append(family.name)
    return mixings


def _mixing_dest(flag: str) -> str:
    return "mixing_" + flag.lstrip("-").replace("-", "_")


def _decode_settings() -> dict:
    """Every registered family's decode settings, once per key (first family's wording)."""
    from genstudio.core import registry

    settings = {}
    for family in registry.families():
        for setting in family.decode_settings:
            settings.setdefault(setting.key, (setting, []))[1].append(family.name)
    return settings


def _number(setting):
    def parse(text: str):
        try:
            return setting.kind(text) if setting.kind is int else float(text)
        except ValueError:
            what = "a whole number" if setting.kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{what} from {setting.minimum:g} to {setting.maximum:g}, "
                                             f"not {text!r}") from None

    parse.__name__ = setting.kind.__name__
    return parse


def decode_options(args, info, record: dict | None = None) -> dict:
    """The model's default decode settings, then the record's, then the flags given; each checked."""
    options = info.decode_defaults()
    if record and "decode_options" in record:
        options.update(info.check_decode_options(record["decode_options"], str(args.latent)))
    given = {key: getattr(args, f"decode_{key}") for key in _decode_settings()
             if getattr(args, f"decode_{key}", None) is not None}
    if given:
        own = {s.key for s in info.decode_settings}
        for key in given:
            if key not in own:
                flags = ", ".join(s.flag for s in info.decode_settings) or "no decode settings"
                what = "a foreign generator" if info.family_spec is None else f"this {info.family} model"
                raise GenStudioError(f"{args.checkpoint}: --{key.replace('_', '-')} does not apply to {what} "
                                     f"(it takes {flags})")
        options.update(info.check_decode_options(given, str(args.checkpoint)))
    return options


def run(args) -> int:
    from genstudio.core.explore.explore_session import read_latent_record
    from genstudio.core.io.export import points_image, save_grid, save_png
    from genstudio.core.io.open_model import open_model
    from genstudio.core.latent import seeded_latents

    # Checked before the model opens and samples: a mistyped folder is bad input, not a folder to make.
    folder = Path(args.out).parent
    if not folder.is_dir():
        raise GenStudioError(f"{args.out}: the folder {folder} does not exist")
    opened = open_model(args.checkpoint, latent_dim=args.latent_dim, output_range=args.output_range,
                        consent=foreign_consent(args))
    model, info = opened.model, opened.info
    for flag in _mixings():
        if getattr(args, _mixing_dest(flag), None):
            return _mixing_grid(args, opened, flag, decode_options(args, info))
    if args.latent:
        import torch

        record = read_latent_record(args.latent, info.latent_dim, info.latent_spaces)
        z = torch.tensor(record["latent"], dtype=torch.float32).view(1, -1)
        labels = torch.tensor([int(record.get("label", 0))]) if info.num_classes else None
        options = decode_options(args, info, record)
        edits = {**_space_edits(args, opened, record, labels), **_source(args, info, record)}
        images = _decode(args, model, z, labels, {**options, **edits})
        what = f"the latent of {args.latent.name}"
        if "source" in edits:
            what += f", translating {edits['source'].name}"
        for space in info.latent_spaces:
            if space.option in edits:
                what += f", its edit in {space.label} on the {record[space.option]['layers']} layers"
        cols = 1
    else:
        rows, cols = args.grid
        options = decode_options(args, info)
        images = _decode(args, model, seeded_latents(rows * cols, info.latent_shape, args.seed, args.temperature),
                         None, options)
        what = f"{rows}x{cols} samples, seed {args.seed}"
    if options:
        what += ", " + ", ".join(f"{key} {value:g}" for key, value in options.items())
    if info.is_points:
        save_png(points_image(images), args.out)
    else:
        save_grid(images, args.out, cols=cols, padding=0 if args.latent else args.padding, scale=args.scale)
    print(f"wrote {args.out} ({what})")
    return 0


def _source(args, info, record: dict) -> dict:
    """{"source": SourceImage} of the record's source image (what a translation model translated in
    the explorer), checked against the model; {} when the record keeps none."""
    from genstudio.core.explore.explore_session import source_of
    from genstudio.core.families.capabilities import Capability

    source = source_of(record, str(args.latent))
    if source is None:
        return {}
    if not info.has(Capability.TRANSLATION):
        raise GenStudioError(f"{args.latent}: its source image is for a translation model; {args.checkpoint} "
                             f"is a {info.family}")
    if tuple(source.image.shape[1:]) != tuple(info.data_shape):
        raise GenStudioError(f"{args.latent}: a source image of shape {tuple(source.image.shape[1:])}, "
                             f"{args.checkpoint} translates {tuple(info.data_shape)}")
    return {"source": source}


def _space_edits(args, opened, record: dict, labels) -> dict:
    """{decode keyword: SpaceEdit} of the record's edits in the model's declared latent spaces, their
    principal directions recomputed for this model (they are seeded). An edit in a space only other
    families declare is refused, naming them."""
    import torch

    from genstudio.core import registry
    from genstudio.core.latent import SpaceEdit

    own = {space.option: space for space in opened.info.latent_spaces}
    for family in registry.families():
        for space in family.latent_spaces:
            if space.option in record and space.option not in own:
                raise GenStudioError(f"{args.latent}: its edit in {space.label} needs a model with that space "
                                     f"({family.label}); {args.checkpoint} is a {opened.info.family}")
    edits = {}
    for option, space in own.items():
        if option in record:
            edit = record[option]
            label = None if labels is None else int(labels[0])
            directions, _ = opened.model.space_directions(edit["k"], label=label)
            edits[option] = SpaceEdit(directions, torch.tensor(edit["alphas"], dtype=torch.float32), edit["layers"])
    return edits


def _mixing_grid(args, opened, flag: str, options: dict) -> int:
    """The mixing grid of the model's declared space whose flag was given, seeds A x B."""
    from genstudio.core.io.export import save_grid
    from genstudio.core.latent import parse_seeds

    spaces = [space for space in opened.info.latent_spaces if space.mixing is not None and space.mixing.flag == flag]
    if not spaces:
        raise GenStudioError(f"{args.checkpoint}: {flag} needs a model with a latent space it mixes in "
                             f"({', '.join(_mixings()[flag][1])}); this is a {opened.info.family} model")
    mixing = spaces[0].mixing
    text = getattr(args, _mixing_dest(flag))
    a_text, slash, b_text = text.partition("/")
    if not slash:
        raise GenStudioError(f"{flag} takes SEEDS_A/SEEDS_B, e.g. 1,2,3/10,11,12, not {text!r}")
    try:
        seeds_a, seeds_b = parse_seeds(a_text), parse_seeds(b_text)
    except ValueError as exc:
        raise GenStudioError(f"{flag}: {exc}") from None
    layers = args.layers or mixing.default_layers
    try:
        images = opened.model.mixing_grid(seeds_a, seeds_b, layers, **options)
    except ValueError as exc:
        raise GenStudioError(f"{args.checkpoint}: --layers: {exc}") from None
    check_finite(images, f"{args.checkpoint}: the model's output")
    save_grid(images.numpy(), args.out, cols=len(seeds_b) + 1, padding=args.padding, scale=args.scale)
    print(f"wrote {args.out} ({flag.lstrip('-')}: rows seeds {a_text}, columns seeds {b_text}, B's latents on "
          f"layers {layers})")
    return 0


def _decode(args, model, z, labels, options: dict):
    """The images (n, *data_shape); a decode the model refuses (steps above its T) or that comes out NaN
    or Inf (NonFiniteOutput, a ValueError) is bad input, named by the file, and nothing is written."""
    from genstudio.core.explore.decoding import decode_numpy, stop_option

    # Polled once per sampling step, or once per row of an image drawn row by row (its height).
    progress = (DecodeProgress(options["steps"], "step") if "steps" in options else
                DecodeProgress(model.data_shape[-2] if len(model.data_shape) == 3 else None, "row"))
    try:
        return decode_numpy(model, z, labels, {**options, **stop_option(model, progress)})
    except (ValueError, GenStudioError) as exc:      # also what the model cannot decode (no example inputs)
        raise GenStudioError(f"{args.checkpoint}: {first_line(exc)}") from None
    finally:
        progress.close()


class DecodeProgress:
    """A should_stop for a sampler's or row-by-row model's decode (decoding.stop_option) that never stops
    it but shows how far it got: the model polls it once per step (diffusion) or row (PixelCNN), so a
    header's 10,000 sampling steps show a line on stderr instead of running a quarter of an hour in
    silence. A decode under SHOW_AFTER_S prints nothing. Ctrl-C stops any decode (main: exit 130)."""

    SHOW_AFTER_S = 2.0
    EVERY_S = 0.5

    def __init__(self, total: int | None, unit: str):
        self.total, self.unit = total, unit
        self.done = 0
        self.started = time.perf_counter()
        self.shown_at: float | None = None

    def __call__(self) -> bool:
        now = time.perf_counter()
        due = now - self.started >= self.SHOW_AFTER_S and (self.shown_at is None or now - self.shown_at >= self.EVERY_S)
        if due:
            of = f" of {self.total}" if self.total else ""
            print(f"\rdecoding: {self.unit} {self.done + 1}{of}, {now - self.started:.0f} s (Ctrl-C stops)",
                  end="", file=sys.stderr, flush=True)
            self.shown_at = now
        self.done += 1
        return False

    def close(self) -> None:
        if self.shown_at is not None:
            print(file=sys.stderr, flush=True)
