"""What I see is what I export: the image as shown, pixel for pixel, with the latent record that
draws it again; grids of the current latent (along the principal directions, or varied) that keep
the slider edits; and a JSON of the latents beside every export."""

import json

import numpy as np
import torch
from PIL import Image

from genstudio.core.explore.grid_latents import grid_latents
from genstudio.ui.model_list import demo_checkpoints


def test_export_as_shown_and_grids_of_the_current_latent(qtbot, window, tmp_path):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    session, explore = window.session, window.explore
    qtbot.waitUntil(lambda: session.directions is not None, timeout=30000)      # principal directions
    with qtbot.waitSignal(explore.imageRendered, timeout=30000):
        session.move_direction(0, 2.0)                                           # an edit the seed lacks
    qtbot.waitUntil(lambda: explore.last_image_kind == "full", timeout=30000)

    shown = window.exports.export_shown(tmp_path / "shown.png", scale=3)
    pixels = np.asarray(Image.open(shown).convert("L"), dtype=np.int32)
    expected = (np.clip(explore.last_image[0], 0, 1) * 255 + 0.5).astype(np.int32).repeat(3, 0).repeat(3, 1)
    assert pixels.shape == (84, 84) and np.array_equal(pixels, expected)
    record = json.loads((tmp_path / "shown.json").read_text())
    assert np.allclose(record["latent"], session.z.numpy())

    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid(tmp_path / "dirs.png", {"kind": "directions", "rows": 2, "cols": 5, "seed": 0,
                                                   "padding": 0, "scale": 1})
    saved = json.loads((tmp_path / "dirs.json").read_text())
    latents = torch.tensor(saved["latents"])
    assert saved["grid"] == "directions" and latents.shape == (10, session.latent_dim)
    assert torch.allclose(latents[2], session.z, atol=1e-5)                     # the middle of row 1 is what is shown
    assert torch.allclose(latents[:5] - session.z, torch.linspace(-3, 3, 5)[:, None] * session.directions[0], atol=1e-5)
    assert Image.open(tmp_path / "dirs.png").size == (5 * 28, 2 * 28)

    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid(tmp_path / "vars.png", {"kind": "variations", "rows": 2, "cols": 3, "seed": 4,
                                                   "padding": 2, "scale": 1})
    varied = torch.tensor(json.loads((tmp_path / "vars.json").read_text())["latents"])
    assert torch.allclose(varied[0], session.z) and not torch.allclose(varied[1], session.z)
    assert 0 < float((varied[1:] - session.z).norm(dim=1).mean()) < 0.5 * float(session.z.norm())

    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_grid(tmp_path / "seeds.png", {"kind": "seeds", "rows": 1, "cols": 4, "seed": 9,
                                                    "padding": 2, "scale": 1})
    seeds = torch.tensor(json.loads((tmp_path / "seeds.json").read_text())["latents"])
    assert torch.equal(seeds, grid_latents("seeds", 1, 4, 9, 1.0, session.z))
