"""Walks through key latents: seamless loops, MP4 with the asked frame count (when PyAV is
installed), GIF otherwise, keys from seeds, A and B, or an export's JSON."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.core.explore.walk import walk_latents
from genstudio.core.io.video import video_available
from genstudio.ui.model_list import demo_checkpoints


def test_a_looped_walk_has_no_seam():
    keys = torch.randn(4, 64, generator=torch.Generator().manual_seed(0))
    frames = walk_latents(keys, 10)
    assert frames.shape == (40, 64) and torch.allclose(frames[::10], keys)
    steps = (frames - frames.roll(1, dims=0)).norm(dim=1)          # steps[0]: last frame -> first frame
    # like any neighbouring pair: the step before it (inside the segment key 4 -> key 1) within 5 %,
    # and no larger than the walk's largest step
    assert abs(float(steps[0]) - float(steps[39])) < 0.05 * float(steps[39])
    assert float(steps[0]) <= float(steps[1:].max())
    open_walk = walk_latents(keys, 10, loop=False)
    assert open_walk.shape == (31, 64) and torch.equal(open_walk[-1], keys[-1])
    with pytest.raises(ValueError, match="at least two key latents"):
        walk_latents(keys[:1], 10)


def open_gan(qtbot, window):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)


def walk(keys="seeds", **overrides):
    return {"keys": keys, "seeds": "3,5,8", "file": "", "frames": 6, "fps": 12, "scale": 2, "loop": True,
            "format": "gif", **overrides}


def test_walk_exports(qtbot, window, tmp_path):
    open_gan(qtbot, window)
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_walk(tmp_path / "walk.gif", walk())
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.n_frames == 18 and gif.size == (56, 56)
    saved = json.loads((tmp_path / "walk.json").read_text())
    assert len(saved["latents"]) == 18 and saved["loop"] is True and len(saved["keys"]) == 3

    with qtbot.waitSignal(window.exported, timeout=30000):                  # keys from that JSON, open walk
        window.exports.export_walk(tmp_path / "again.gif",
                                   walk("file", file=str(tmp_path / "walk.json"), frames=1, loop=False))
    assert Image.open(tmp_path / "again.gif").n_frames == 18
    window.session.set_endpoint("a")
    window.session.set_endpoint("b", window.session.seeded_latent(99))
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_walk(tmp_path / "ab.gif", walk("ab", frames=5))
    assert Image.open(tmp_path / "ab.gif").n_frames == 10
    (tmp_path / "bad.json").write_text('{"latents": [[1, 2]]}')
    window.exports.export_walk(tmp_path / "bad.gif", walk("file", file=str(tmp_path / "bad.json")))
    assert "this model takes 64" in window.statusBar().currentMessage()


@pytest.mark.skipif(not video_available(), reason="PyAV (the video extra) is not installed")
def test_mp4_walk_has_the_asked_frame_count(qtbot, window, tmp_path):
    import av

    open_gan(qtbot, window)
    with qtbot.waitSignal(window.exported, timeout=60000):
        window.exports.export_walk(tmp_path / "walk.mp4", walk(format="mp4", frames=8, scale=3))
    with av.open(str(tmp_path / "walk.mp4")) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="gray") for f in container.decode(stream)]
        assert (stream.width, stream.height) == (84, 84) and int(stream.average_rate) == 12
    assert len(frames) == 24 and np.ptp(frames[0]) > 100                    # digits, not a blank


def test_walk_through_points_picked_on_the_map(qtbot, window, tmp_path):
    vae = next(p for p in demo_checkpoints() if p.stem == "vae-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(vae)
    panel = window.map
    window.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(panel.tasks.finished, timeout=60000):
        panel.build_map()
    window.exports.export_walk(tmp_path / "none.gif", walk("map"))
    assert "pick at least two points" in window.statusBar().currentMessage()
    for index in (10, 200, 3000):
        panel.click_at(panel.projection.points[index])
    keys = window.exports.walk_keys(walk("map"))
    assert torch.allclose(keys, torch.as_tensor(panel.projection.latents[[10, 200, 3000]]))
    with qtbot.waitSignal(window.exported, timeout=30000):
        window.exports.export_walk(tmp_path / "map.gif", walk("map", frames=4))
    assert Image.open(tmp_path / "map.gif").n_frames == 12
