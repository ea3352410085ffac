"""Follow a run folder while another process writes it (docs/run-folder.md): new records of
`metrics.jsonl` as the file grows, the newest sample grid, the newest checkpoint, and whether the run
is running, has ended, or has stopped writing without saying so (killed, or its machine gone).

Qt-free: the app polls a `RunFollower` from a timer, tests and scripts call `poll()` directly. Reads
take only whole lines (a line without its newline is left for the next poll), skip lines that are not
JSON objects, and start over when the log is replaced or cut shorter (the run was restarted in the
same folder). A `start` record at step s (a resume) drops what was recorded after s: those steps are
about to be trained again.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genstudio.core.training.run_folder import METRICS_FILE, RUN_FILE

# A run with no new record for this long, and no `end` record, has stopped writing.
QUIET_AFTER_S = 60.0
# At most this much of the log is read per poll (a long run's log is read over several polls, the
# app's GUI thread free between them): 512 KiB is about 3,500 records, parsed in about 0.1 s on a busy
# two-core machine; 16 MiB held the GUI thread 2 s.
READ_LIMIT = 2**19
WAITING, RUNNING, ENDED, SILENT = "waiting", "running", "ended", "silent"


@dataclass
class Update:
    """What one poll found: the records new since the last poll, in order, and whether the follower
    started over (the log was replaced or a resume went back) so that views must redraw from
    `RunFollower.records`."""

    records: list[dict] = field(default_factory=list)
    restarted: bool = False
    described: bool = False        # run.json is new or changed since the last poll

    def __bool__(self) -> bool:
        return bool(self.records) or self.restarted or self.described


def figures(record: dict) -> dict[str, float]:
    """A record's figures that can be drawn: its `scalars` that are numbers (null, the log's word for
    a non-finite figure, text and true/false are left out)."""
    scalars = record.get("scalars")
    if not isinstance(scalars, dict):
        return {}
    return {key: float(value) for key, value in scalars.items() if type(value) in (float, int)}


def read_grid(path: str | Path) -> np.ndarray:
    """The pixels of a sample grid a run wrote: (H, W) for grey, (H, W, 3) for colour, uint8. OSError
    or ValueError when the file cannot be read as an image."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L" if image.mode in ("1", "L", "I", "I;16") else "RGB"))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds // 60 % 60} min"


class RunFollower:
    def __init__(self, folder: str | Path, quiet_after_s: float = QUIET_AFTER_S):
        self.folder = Path(folder)
        self.quiet_after_s = quiet_after_s
        self.description: dict | None = None    # run.json as last read
        self.records: list[dict] = []           # every record kept, in order
        self._newest: dict[str, dict] = {}      # the newest record of each kind (a long log's start is far back)
        self.skipped_lines = 0                  # lines that were not JSON objects
        self._offset = 0
        self._identity = None                   # (device, inode) of the log file read
        self._partial = b""
        self._described_at = None               # run.json's (mtime_ns, size) as last read
        self._last_growth = time.monotonic()
        self._caught_up = False                 # a poll has read to the end of the log as it was
        self._seen_any = False
        self.behind = False                     # the last poll stopped at READ_LIMIT: more is there to read

    # --- reading ------------------------------------------------------------------------------------
    def poll(self) -> Update:
        update = Update()
        update.described = self._read_description()
        path = self.folder / METRICS_FILE
        try:
            stat = path.stat()
        except OSError:
            return update         # not written yet (or the folder is gone for now)
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is not None and (identity != self._identity or stat.st_size < self._offset):
            self._reset()
            update.restarted = True
        self._identity = identity
        self.behind = False
        if stat.st_size == self._offset:
            self._caught_up = True
            return update
        try:
            with open(path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read(READ_LIMIT)
        except OSError:
            return update
        self._offset += len(chunk)
        self.behind = self._offset < stat.st_size
        if self._caught_up:
            self._last_growth = time.monotonic()
        else:
            # What was there when following began grew when the file was last written: a run killed an
            # hour ago is "stopped writing" at once, not "running" for quiet_after_s.
            self._last_growth = time.monotonic() - max(0.0, time.time() - stat.st_mtime)
            self._caught_up = not self.behind
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            record = self._parse(line)
            if record is None:
                continue
            if record["kind"] == "start" and self._drop_after(record["step"]):
                update.restarted = True
            self.records.append(record)
            self._newest[record["kind"]] = record
            update.records.append(record)
        if update.restarted:
            update.records = list(self.records)
        return update

    def _parse(self, line: bytes) -> dict | None:
        if not line.strip():
            return None
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if (not isinstance(record, dict) or not isinstance(record.get("kind"), str)
                or not isinstance(record.get("step"), int) or isinstance(record.get("step"), bool)):
            self.skipped_lines += 1
            return None
        self._seen_any = True
        return record

    def _drop_after(self, step: int) -> bool:
        """A (re)start at `step`: forget the records of later steps. True when any were dropped."""
        dropped = any(r["step"] > step for r in self.records)
        self.records = [r for r in self.records if r["step"] <= step and r["kind"] != "end"]
        self._newest = {r["kind"]: r for r in self.records}
        return dropped

    def _reset(self) -> None:
        self.records, self._offset, self._partial, self._newest = [], 0, b"", {}
        self._seen_any = False          # the new log may hold nothing yet: waiting again

    def _read_description(self) -> bool:
        path = self.folder / RUN_FILE
        try:
            stat = path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            if key == self._described_at:
                return False
            description = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return False          # absent, or being replaced this instant: read on the next poll
        self._described_at = key
        if not isinstance(description, dict):
            return False
        self.description = description
        return True

    # --- what the records say -----------------------------------------------------------------------
    def series(self, kinds: tuple[str, ...] = ("step", "samples")) -> dict[str, tuple[list[int], list[float]]]:
        """Each scalar's (steps, values) over the records of `kinds`; null (non-finite) values left out."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for record in self.records:
            if record["kind"] not in kinds:
                continue
            for key, value in figures(record).items():
                steps, values = out.setdefault(key, ([], []))
                steps.append(record["step"])
                values.append(value)
        return out

    def _last(self, kind: str) -> dict | None:
        return self._newest.get(kind)

    @property
    def step(self) -> int:
        return self.records[-1]["step"] if self.records else 0

    @property
    def total_steps(self) -> int | None:
        start = self._last("start")
        total = start.get("total_steps") if start else None
        return total if isinstance(total, int) else None

    @property
    def end(self) -> dict | None:
        """The `end` record when it is the newest record (a run resumed after it is running again)."""
        last = self.records[-1] if self.records else None
        return last if last is not None and last["kind"] == "end" else None

    @property
    def images_per_sec(self) -> float:
        record = self._last("step")
        value = record.get("images_per_sec") if record else None
        return float(value) if isinstance(value, (int, float)) else 0.0

    def newest_image(self) -> Path | None:
        """The newest sample grid named in the log that is on disk (inside the folder only)."""
        for record in reversed(self.records):
            name = record.get("image") if record["kind"] == "samples" else None
            if isinstance(name, str):
                path = self._inside(name)
                if path is not None and path.is_file():
                    return path
        return None

    def newest_checkpoint(self) -> Path | None:
        """The checkpoint the log last named as saved or final, else the newest .safetensors here."""
        for record in reversed(self.records):
            name = record.get("path") if record["kind"] in ("saved", "end") else None
            if isinstance(name, str):
                path = self._inside(name)
                if path is not None and path.is_file():
                    return path
        try:
            files = [p for p in self.folder.glob("*.safetensors") if p.is_file()]
        except OSError:
            return None
        return max(files, key=lambda p: p.stat().st_mtime_ns, default=None)

    def _inside(self, name: str) -> Path | None:
        """`name` resolved within the folder; None when it would lead outside (a hostile log)."""
        try:
            path = (self.folder / name).resolve()
            path.relative_to(self.folder.resolve())
        except (ValueError, OSError):
            return None
        return path

    def state(self, now: float | None = None) -> str:
        """WAITING (nothing logged yet), RUNNING, ENDED (an `end` record) or SILENT (no new record
        for `quiet_after_s` and no end: the process was killed or cannot reach the folder)."""
        if not self._seen_any:
            return WAITING
        if self.end is not None:
            return ENDED
        quiet = (time.monotonic() if now is None else now) - self._last_growth
        return SILENT if quiet >= self.quiet_after_s else RUNNING

    def status(self, now: float | None = None) -> str:
        """One line for a person: what the run is doing, or how it ended."""
        state = self.state(now)
        if state == WAITING:
            return f"waiting for {self.folder.name} to write {METRICS_FILE}"
        total = self.total_steps
        at = f"step {self.step}" + (f" of {total}" if total else "")
        if state == ENDED:
            end = self.end
            state = str(end.get("state", "ended"))
            message = end.get("message") if isinstance(end.get("message"), str) else ""
            # "stopped at step 20 of 40" says no more than the line itself: only other messages are added
            said = message and not message.startswith(state)
            return f"{state} at {at}" + (f": {message}" if said else "")
        if state == SILENT:
            quiet = (time.monotonic() if now is None else now) - self._last_growth
            return f"stopped writing at {at} ({_duration(quiet)} without a record)"
        speed = self.images_per_sec
        return f"running: {at}" + (f", {speed:.0f} img/s" if speed else "")

    def seconds_since_growth(self) -> float:
        return time.monotonic() - self._last_growth


def is_run_folder(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / METRICS_FILE).is_file() or (folder / RUN_FILE).is_file()


def run_folders_under(root: str | Path) -> list[Path]:
    """`root` itself when it is a run folder, else the run folders directly inside it, newest first."""
    root = Path(root)
    if is_run_folder(root):
        return [root]
    try:
        found = [p for p in root.iterdir() if p.is_dir() and is_run_folder(p)]
    except OSError:
        return []
    return sorted(found, key=lambda p: os.stat(p).st_mtime_ns, reverse=True)
