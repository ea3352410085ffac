"""Helpers that make edited copies of checkpoint files for the tests."""

import json
import struct


def rewrite_header(src, dst, change):
    """Copy a checkpoint with its genstudio header edited (tensors untouched)."""
    raw = src.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n])
    header = json.loads(meta["__metadata__"]["genstudio"])
    change(header)
    meta["__metadata__"]["genstudio"] = json.dumps(header)
    blob = json.dumps(meta).encode()
    blob += b" " * (-len(blob) % 8)
    dst.write_bytes(struct.pack("<Q", len(blob)) + blob + raw[8 + n:])
    return dst
