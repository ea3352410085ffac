"""`genstudio sample`: a grid of samples, or the image of a latent record saved by the app."""

from __future__ import annotations

from pathlib import Path

from genstudio.cli.arguments import add_foreign_options, foreign_consent, grid

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
    add_foreign_options(sample)


def run(args) -> int:
    from genstudio.core.explore_session import read_latent_record
    from genstudio.core.export import points_image, save_grid, save_png
    from genstudio.core.latent import seeded_latents
    from genstudio.core.open_model import open_model
    from genstudio.core.render_requests import decode_numpy

    opened = open_model(args.checkpoint, latent_dim=args.latent_dim, output_range=args.output_range,
                        consent=foreign_consent(args))
    model, info = opened.model, opened.info
    if args.latent:
        import torch

        record = read_latent_record(args.latent, info.latent_dim)
        z = torch.tensor(record["latent"], dtype=torch.float32).view(1, -1)
        labels = torch.tensor([int(record.get("label", 0))]) if info.num_classes else None
        images = decode_numpy(model, z, labels)
        what = f"the latent of {args.latent.name}"
        cols = 1
    else:
        rows, cols = args.grid
        images = decode_numpy(model, seeded_latents(rows * cols, info.latent_shape, args.seed, args.temperature))
        what = f"{rows}x{cols} samples, seed {args.seed}"
    if info.is_points:
        save_png(points_image(images), args.out)
    else:
        save_grid(images, args.out, cols=cols, padding=0 if args.latent else args.padding, scale=args.scale)
    print(f"wrote {args.out} ({what})")
    return 0
