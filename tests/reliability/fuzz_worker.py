"""One fuzz worker: imports genstudio once, then runs a batch of jobs, each through a real entry point.

    python fuzz_worker.py JOBS.json BATCH.json START HEADROOM_BYTES MARKER_DIR JOB_TIMEOUT_S

JOBS.json holds every job of the run; BATCH.json the indices this worker handles, from position
START (a restarted worker goes on after the job its predecessor died in). Before the jobs, the
address space is limited to what importing genstudio took plus HEADROOM_BYTES (RLIMIT_AS), so a
file that makes genstudio allocate without bound hits the limit instead of the machine. Each job
also runs under SIGALRM, so a blocking open or an endless read ends as a "hang".

Protocol, on the stdout this process started with (one JSON object per line): {"i", "event":
"start"} before a job and {"i", "event": "done", "outcome", "detail"} after it; the job's own
stdout and stderr are captured on strict ASCII streams, which is what a LANG=C console is.

Outcomes: clean error, correct load, traceback, unclear error (no traceback, but not a last
stderr line that is the only error line and names the file, or an exit code other than 2, or 3
when training stopped on a NaN loss), hang, memory-limit hit, code executed (a file appeared in
MARKER_DIR), silently wrong (a load that succeeded but must not have, or that decodes NaN/Inf).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path

ALLOC_FAILURES = ("can't allocate memory", "cannot allocate memory", "out of memory", "std::bad_alloc",
                  "unable to allocate")


class JobTimeout(BaseException):
    """Raised by SIGALRM inside a job; a BaseException, so no `except Exception` in genstudio swallows it."""


def vm_size() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def printable_name(text: str) -> str:
    from genstudio.core.io.file_checks import printable

    return printable(text)


def where(exc: BaseException) -> str:
    """'file:line in function' of the innermost frame in genstudio (or the innermost frame at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "genstudio" in f.filename.replace("\\", "/").split("/site-packages/")[-1]
            and "/tests/" not in f.filename] or frames
    if not ours:
        return ""
    f = ours[-1]
    name = f.filename.replace("\\", "/")
    name = name[name.rfind("genstudio/"):] if "genstudio/" in name else os.path.basename(name)
    return f"{name}:{f.lineno} in {f.name}"


def is_memory_failure(exc: BaseException) -> bool:
    """MemoryError, or torch's allocator refusing (a RuntimeError), anywhere in the chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MemoryError) or any(s in str(exc).lower() for s in ALLOC_FAILURES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def classify_exception(exc: BaseException, names: str) -> tuple[str, str]:
    """(outcome, detail) of an exception that escaped an entry point."""
    from genstudio.core.errors import GenStudioError

    if isinstance(exc, JobTimeout):
        return "hang", f"no result after the time limit ({where(exc)})"
    if is_memory_failure(exc):
        return "memory-limit hit", f"{type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''} ({where(exc)})"
    if isinstance(exc, GenStudioError):
        return check_message(str(exc), names)
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return "traceback", f"{type(exc).__name__}: {first} ({where(exc)})"


def check_message(message: str, names: str) -> tuple[str, str]:
    """A clean error is one line that names the file (as the console shows it)."""
    if "\n" in message.strip() or not message.strip():
        return "unclear error", f"not one line: {message[:200]!r}"
    if printable_name(names) not in printable_name(message):
        return "unclear error", f"does not name {printable_name(names)!r}: {printable_name(message)[:200]}"
    return "clean error", printable_name(message)[:200]


# --- entry points -----------------------------------------------------------------------------------
def run_load(job: dict) -> tuple[str, str]:
    """The core loader, then the checks a person relies on: finite weights, finite decodes."""
    import torch

    from genstudio.core.io.checkpoints import load_checkpoint
    from genstudio.core.latent import seeded_latents

    ck = load_checkpoint(job["path"])
    model = ck.model.eval()
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    with torch.no_grad():
        z = seeded_latents(4, tuple(model.latent_shape), 0)
        labels = torch.arange(4) % model.num_classes if model.num_classes else None
        out = model.decode(z, labels)
    if bad:
        return "silently wrong", f"loaded with non-finite weights {', '.join(bad[:3])}"
    if not torch.isfinite(out).all():
        return "silently wrong", "loaded, and decodes to NaN/Inf"
    if job["must_fail"]:
        return "silently wrong", f"loaded although the mutation ({job['mutation']}) damages what it loads"
    return "correct load", ""


def run_data(job: dict) -> tuple[str, str]:
    """load_dataset, then what a loaded data set must be: non-empty, sized, the expected count."""
    import torch

    from genstudio.core.data.spec import load_dataset

    ds = load_dataset(job["spec"])
    problems = []
    if len(ds) < 1 or any(d < 1 for d in ds.data.shape):
        problems.append(f"shape {tuple(ds.data.shape)}")
    if ds.is_points and not torch.isfinite(ds.data).all():
        problems.append("non-finite points")
    if not ds.is_points and ds.data.dtype != torch.uint8:
        problems.append(f"dtype {ds.data.dtype}")
    if job.get("expect") is not None and len(ds) != job["expect"]:
        problems.append(f"{len(ds)} samples, expected {job['expect']}")
    if job["must_fail"]:
        problems.append(f"loaded although the mutation ({job['mutation']}) leaves nothing to load")
    return ("silently wrong", "; ".join(problems)) if problems else ("correct load", f"{len(ds)} samples")


def run_cli(job: dict, workdir: Path) -> tuple[str, str]:
    """`genstudio ARGV` in this process (the console script's own `main`) on strict ASCII streams."""
    from genstudio.cli import main

    if job.get("output"):
        Path(job["output"]).unlink(missing_ok=True)     # exit 0 must mean this run wrote it
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict", write_through=True)
    saved = sys.stdout, sys.stderr
    root = logging.getLogger()
    for handler in list(root.handlers):       # main's basicConfig then binds its handler to `err`
        root.removeHandler(handler)
    sys.stdout, sys.stderr = out, err
    escaped = None
    try:
        code = main(list(job["argv"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:             # noqa: BLE001 - the point of the harness is to see it
        escaped = exc
    finally:
        sys.stdout, sys.stderr = saved
        for handler in list(root.handlers):
            root.removeHandler(handler)
    if escaped is not None:
        return classify_exception(escaped, job["names"])
    stdout = out.buffer.getvalue().decode("ascii")
    stderr = err.buffer.getvalue().decode("ascii")
    for text in (stderr, stdout):
        for marker in ("Traceback (most recent call last)", "--- Logging error ---"):
            if marker in text:
                tail = [line for line in text[text.index(marker):].splitlines() if line.strip()]
                return "traceback", f"printed: {tail[-1][:200] if tail else marker}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code == 0:
        if job["must_fail"]:
            return "silently wrong", f"exit 0 although the mutation ({job['mutation']}) damages what it loads"
        if job.get("output") and not Path(job["output"]).is_file():
            return "silently wrong", "exit 0 without writing its output"
        return "correct load", ""
    # 2: bad input; 3: training stopped on a NaN/Inf loss (train only), also a one-line verdict.
    if code != 2 and not (code == 3 and job["argv"][0] == "train"):
        return "unclear error", f"exit code {code}: {(lines or ['(nothing on stderr)'])[-1][:200]}"
    # Progress lines may come first (train's banner); the error is the last line, and the only one.
    errors = [line for line in lines if ": error: " in line]
    if not lines or errors != [lines[-1]]:
        return "unclear error", f"{len(lines)} lines on stderr: {' | '.join(lines)[:300]}"
    return check_message(lines[-1], job["names"])


def run_job(job: dict, workdir: Path) -> tuple[str, str]:
    names = job["names"]
    try:
        if job["kind"] == "load":
            return run_load(job)
        if job["kind"] == "data":
            return run_data(job)
        return run_cli(job, workdir)
    except BaseException as exc:             # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return classify_exception(exc, names)


def main() -> int:
    jobs_file, batch_file, start, headroom, marker_dir, timeout = sys.argv[1:7]
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)     # stray C-level prints must not corrupt the protocol
    jobs = json.loads(Path(jobs_file).read_text())
    batch = json.loads(Path(batch_file).read_text())
    markers = Path(marker_dir)

    import importlib
    import resource

    import torch

    # Everything the entry points import, before the limit: the limit is for what files make genstudio do.
    for module in ("genstudio.cli", "genstudio.core.io.checkpoints", "genstudio.core.data.spec", "genstudio.core.training.engine",
                   "genstudio.core.io.open_model", "genstudio.core.latent", "torchvision"):
        importlib.import_module(module)
    torch.set_num_threads(1)
    limit = vm_size() + int(headroom)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))

    def expired(signum, frame):
        raise JobTimeout()

    signal.signal(signal.SIGALRM, expired)
    workdir = Path(jobs_file).parent / f"work-{os.getpid()}"
    workdir.mkdir(exist_ok=True)
    for position in range(int(start), len(batch)):
        i = batch[position]
        job = jobs[i]
        protocol.write(json.dumps({"i": i, "event": "start"}) + "\n")
        os.chdir(workdir)                               # `sample` writes its --out relative to here
        signal.alarm(int(math.ceil(float(timeout))))
        try:
            outcome, detail = run_job(job, workdir)
        except JobTimeout:                              # fired between the job's end and alarm(0)
            outcome, detail = "hang", "no result after the time limit"
        finally:
            signal.alarm(0)
        appeared = sorted(p.name for p in markers.iterdir())
        if appeared:
            outcome, detail = "code executed", f"payload ran: {', '.join(appeared)} appeared"
            for name in appeared:
                shutil.rmtree(markers / name, ignore_errors=True)
        protocol.write(json.dumps({"i": i, "event": "done", "outcome": outcome, "detail": detail}) + "\n")
    protocol.write(json.dumps({"event": "finished"}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
