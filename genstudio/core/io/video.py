"""MP4 export through PyAV (the optional `video` extra: pip install "genstudio[video]"), H.264 in
yuv420p so every player opens it; frames are upscaled to even sizes, which that format needs.
Written with PyAV rather than by hand because encoding video is FFmpeg's job; without the extra,
GIF (export.save_gif) is the format the app offers."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np

from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.core.io.export import to_uint8_hwc


def video_available() -> bool:
    """Whether PyAV is installed (found, not imported: the app asks when it builds a dialog)."""
    return importlib.util.find_spec("av") is not None


def save_mp4(images: np.ndarray, path: str | Path, fps: int = 24, scale: int = 4) -> Path:
    """Frames (N, C, H, W) in [0, 1] -> an H.264 MP4 at `fps`, each frame upscaled `scale` times."""
    try:
        import av
    except ImportError:
        raise RuntimeError(f"{path}: MP4 export needs PyAV (pip install \"genstudio[video]\"); GIF needs nothing") from None
    frames = to_uint8_hwc(images)                                                 # (N, H, W, 3)
    frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    h, w = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")   # even sizes for yuv420p
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return write_bytes_atomic(path, buffer.getvalue())
