"""`genstudio bench --compare OLD.json [NEW.json]`: every figure of two bench records side by side,
before and after, so that a regression is seen the day it lands.

A record is the JSON `genstudio bench --json` writes: nested objects of numbers. Figures are
matched by their path ("slider_latency_ms.flow.p95"); which way is better is read from the path's
words (milliseconds and seconds: lower; images/s, ratios, speed-ups: higher), and a figure that
moved the worse way by more than `REGRESSION` (beyond the noise of a shared machine) is marked.
Figures whose direction the path does not tell (counts, parameters, the reference loop's own
speed) are shown without a verdict.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from genstudio.core.errors import GenStudioError

REGRESSION = 0.10           # a figure 10 % worse is marked

# Words of a figure's path that say which way is better. The last part is read first: counts and
# settings (n, repeats, bar, threads, parameters...) are not figures of merit, and "reference" is
# the plain loop we are compared with, not ours.
NEUTRAL = ("n", "repeats", "rounds", "threads", "parameters", "points", "samples", "batch_size", "steps",
           "steps_per_window", "features", "grid", "grid_threads", "count", "size", "image_size")
HIGHER = ("ratio", "images_per", "genstudio", "in_app", "headless", "speed_up", "per_s", "fps")
LOWER = ("ms", "_s", "wall", "p50", "p95", "p99", "max", "min", "median", "stall", "latency", "seconds")


def read_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenStudioError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise GenStudioError(f"{path}: not a readable bench record ({type(exc).__name__})") from None
    if not isinstance(record, dict):
        raise GenStudioError(f"{path}: not a bench record (an object of figures)")
    return record


def flatten(record: dict, prefix: str = "") -> dict[str, float]:
    """{"a.b.c": number} of every finite number in nested objects (bools and text left out)."""
    out = {}
    for key, value in record.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, path))
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):   # a curve's rows
            out.update(flatten({str(i): v for i, v in enumerate(value)}, path))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[path] = float(value)
    return out


def better(path: str) -> str:
    """"higher", "lower" or "" (not a figure of merit) for a figure's path."""
    parts = path.lower().split(".")
    if (parts[-1] in NEUTRAL or parts[-1].startswith("bar") or "reference" in parts
            or any(part.endswith("options") for part in parts)):      # a decode's settings, not a figure
        return ""
    words = path.lower()
    if any(word in words for word in HIGHER):
        return "higher"
    if any(word in words for word in LOWER):
        return "lower"
    return ""


def compare(old: dict, new: dict) -> list[dict]:
    """One row per figure in both records: path, before, after, change (after / before - 1), and the
    verdict "better", "worse" (beyond REGRESSION), "same" or "" (no direction)."""
    before, after = flatten(old), flatten(new)
    rows = []
    for path in [p for p in after if p in before]:
        a, b = before[path], after[path]
        change = (b / a - 1) if a else (0.0 if b == a else math.inf)
        way = better(path)
        verdict = ""
        if way:
            gain = change if way == "higher" else -change
            verdict = "better" if gain > REGRESSION else "worse" if gain < -REGRESSION else "same"
        rows.append({"figure": path, "before": a, "after": b, "change": change, "verdict": verdict})
    return rows


def format_rows(rows: list[dict], old_name: str, new_name: str) -> str:
    width = max([len(r["figure"]) for r in rows] + [6])
    lines = [f"{'figure':<{width}}  {old_name[-14:]:>14}  {new_name[-14:]:>14}  {'change':>8}",
             "-" * (width + 44)]
    for r in rows:
        mark = {"worse": "  WORSE", "better": "  better"}.get(r["verdict"], "")
        change = "" if not math.isfinite(r["change"]) else f"{100 * r['change']:+7.1f}%"
        lines.append(f"{r['figure']:<{width}}  {r['before']:>14.4g}  {r['after']:>14.4g}  {change:>8}{mark}")
    worse = [r["figure"] for r in rows if r["verdict"] == "worse"]
    lines.append(f"{len(rows)} figures in both; {len(worse)} worse by more than {100 * REGRESSION:.0f} %"
                 + (f": {', '.join(worse)}" if worse else ""))
    return "\n".join(lines)
