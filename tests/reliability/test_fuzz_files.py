"""Seeded fuzz of checkpoints and data files through the real entry points, in memory- and time-limited
subprocesses.

The corpus (fuzz_cases.py): mutations of four small checkpoints trained here (a GAN on ring8, a
class-conditional GAN, a VAE and a flow on the bundled MNIST), and malformed idx files, image
folders and data specs. Each checkpoint goes through the core `load_checkpoint`, `genstudio info
FILE` and `genstudio sample FILE --out x.png`; each data case through `load_dataset(spec)` and
`genstudio train --data SPEC --steps 1`.

Importing torch costs seconds, so a few worker processes (fuzz_worker.py) each import genstudio once
and run a batch of jobs, limited to their import-time address space plus HEADROOM (RLIMIT_AS) and
to JOB_TIMEOUT per job. A worker that dies (a hard crash, or killed after HARD_TIMEOUT) has its
in-flight job recorded as the culprit and the rest of its batch re-run in a fresh worker.

Every run must end in a clean one-line error or a correct load: the tests print the counts table
and list every other outcome with its file, mutation and first line, then assert there are none.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import fuzz_cases

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not Path("/proc/self/statm").exists(),
                                reason="RLIMIT_AS, FIFOs and /proc are what this harness measures with (Linux)")

WORKER = Path(__file__).with_name("fuzz_worker.py")
WORKERS = 2
# Importing torch with its CUDA libraries maps about 3.2 GiB of address space before any work; the
# limit is that plus HEADROOM, measured to pass every correct load here (peak ~0.4 GiB above import).
HEADROOM = 2 << 30
JOB_TIMEOUT = 10            # seconds: SIGALRM inside the worker ends a job that blocks
HARD_TIMEOUT = 40           # seconds: the parent kills a worker whose job ignored the alarm (stuck in C)
OK = ("clean error", "correct load")
BAD = ("traceback", "unclear error", "hang", "memory-limit hit", "crash", "code executed", "silently wrong")
COLUMNS = ("runs", "clean error", "correct load") + BAD
RESUME_WORDS = ("none (the base", "step", "rng", "optimizers", "train", "data", "format_version", "family",
                "label_names", "value_range", "consistent", "digest", "NaN", "Inf", "dtype", "flip #0", "flip #1")


# --- running jobs in workers ----------------------------------------------------------------------
class Worker:
    def __init__(self, k: int, batch: list[int], folder: Path):
        self.k, self.batch, self.folder = k, batch, folder
        self.batch_file = folder / f"batch-{k}.json"
        self.batch_file.write_text(json.dumps(batch))
        self.position = 0
        self.proc: subprocess.Popen | None = None
        self.buffer = b""
        self.inflight: int | None = None
        self.since = 0.0
        self.finished = False
        self.starts = 0
        self.log: Path | None = None

    def start(self, jobs_file: Path, markers: Path, env: dict) -> None:
        self.starts += 1
        self.log = self.folder / f"worker-{self.k}-{self.starts}.log"
        self.buffer, self.inflight, self.finished = b"", None, False
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(jobs_file), str(self.batch_file), str(self.position), str(HEADROOM),
                 str(markers), str(JOB_TIMEOUT)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.since = time.monotonic()

    def log_tail(self) -> str:
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1][:200] if lines else "(no output)"


def run_jobs(jobs: list[dict], folder: Path, markers: Path) -> tuple[list[dict], dict]:
    """Every job's {"outcome", "detail"}, and figures of the run (seconds, worker starts)."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs_file = folder / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1",
           # Tell genstudio's own budget what the address-space limit leaves, as a person with a
           # smaller machine would have it: refusing early is right, hitting the limit is not.
           "GENSTUDIO_MEMORY_BUDGET": str(HEADROOM // 2),
           "HOME": str(folder / "home"), "XDG_CACHE_HOME": str(folder / "cache"),
           "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    results: list[dict | None] = [None] * len(jobs)
    workers = [Worker(k, list(range(k, len(jobs), WORKERS)), folder) for k in range(WORKERS)]
    selector = selectors.DefaultSelector()
    started = time.monotonic()

    def launch(w: Worker) -> None:
        w.start(jobs_file, markers, env)
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)

    def died(w: Worker, outcome: str, detail: str) -> None:
        """Record the job the worker died in, and go on after it in a fresh worker."""
        selector.unregister(w.proc.stdout)
        w.proc.stdout.close()
        if w.inflight is None:
            if w.position >= len(w.batch):
                return
            raise RuntimeError(f"fuzz worker {w.k} died outside any job: {detail}; see {w.log}")
        results[w.inflight] = {"outcome": outcome, "detail": detail}
        w.position = w.batch.index(w.inflight) + 1
        if w.position < len(w.batch):
            launch(w)

    for w in workers:
        if w.batch:
            launch(w)
    while selector.get_map():
        for key, _ in selector.select(timeout=0.5):
            w: Worker = key.data
            chunk = os.read(key.fileobj.fileno(), 1 << 16)
            if chunk:
                w.buffer += chunk
                *lines, w.buffer = w.buffer.split(b"\n")
                for line in lines:
                    event = json.loads(line)
                    if event["event"] == "start":
                        w.inflight, w.since = event["i"], time.monotonic()
                    elif event["event"] == "done":
                        results[event["i"]] = {"outcome": event["outcome"], "detail": event["detail"]}
                        w.inflight, w.position = None, w.batch.index(event["i"]) + 1
                    elif event["event"] == "finished":
                        w.finished = True
                continue
            code = w.proc.wait()
            if w.finished:
                selector.unregister(w.proc.stdout)
                w.proc.stdout.close()
                continue
            tail = w.log_tail()
            memory = code == -signal.SIGKILL or any(s in tail.lower() for s in ("memoryerror", "bad_alloc",
                                                                                 "cannot allocate", "out of memory"))
            died(w, "memory-limit hit" if memory else "crash", f"worker died (exit code {code}): {tail}")
        now = time.monotonic()
        for w in workers:
            if w.proc and w.proc.poll() is None and w.inflight is not None and now - w.since > HARD_TIMEOUT:
                os.killpg(w.proc.pid, signal.SIGKILL)
                w.proc.wait()
                died(w, "hang", f"killed after {HARD_TIMEOUT} s (the alarm did not end it)")
    missing = [i for i, r in enumerate(results) if r is None]
    assert not missing, f"jobs without a result: {missing[:10]}"
    with open(folder / "results.jsonl", "w") as log:     # every run, for whoever chases a failure
        for job, result in zip(jobs, results):
            log.write(json.dumps({**job, **result}) + "\n")
    return results, {"seconds": time.monotonic() - started, "worker starts": sum(w.starts for w in workers)}


# --- reporting ------------------------------------------------------------------------------------
def table(jobs: list[dict], results: list[dict], files: int, title: str) -> str:
    rows: dict[str, Counter] = {}
    for job, result in zip(jobs, results):
        row = rows.setdefault(job["entry"], Counter())
        row["runs"] += 1
        row[result["outcome"]] += 1
    total = sum(rows.values(), Counter())
    width = max(len(name) for name in [*rows, "all entry points"])
    head = f"{'entry point':<{width}}  " + "  ".join(c for c in COLUMNS)
    lines = [f"{title}: {files} files tried", head]
    for name, row in [*rows.items(), ("all entry points", total)]:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{row[c]:>{len(c)}}" for c in COLUMNS))
    return "\n".join(lines)


def failures(jobs: list[dict], results: list[dict]) -> list[str]:
    out = []
    for job, result in zip(jobs, results):
        if result["outcome"] not in OK:
            out.append(f"{result['outcome']}: {job['entry']} {job['label']} [{job['mutation']}]: {result['detail']}")
    return out


def report(jobs, results, files, title, stats) -> list[str]:
    bad = failures(jobs, results)
    print()
    print(table(jobs, results, files, title))
    print(f"{title}: {stats['seconds']:.1f} s in {stats['worker starts']} worker starts")
    for line in bad:
        print("  " + line)
    return bad


# --- the tests ------------------------------------------------------------------------------------
@pytest.mark.long          # about 35 s on 2 cores: `make test-long`
def test_fuzz_checkpoints(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    bases = fuzz_cases.train_base_checkpoints(tmp_path / "bases")
    cases = fuzz_cases.checkpoint_cases(bases, tmp_path / "checkpoints", markers)
    assert len(cases) >= 300
    out = "grid.png"          # relative: each worker runs in a folder of its own
    jobs = []
    for case in cases:
        path, name = case["path"], Path(case["path"]).name
        common = {"names": name, "label": name, "mutation": case["mutation"]}
        jobs.append({**common, "kind": "load", "entry": "load_checkpoint", "path": path, "must_fail": case["must_fail"]})
        # `info` prints the header: it vouches for no weights, so exit 0 on damaged tensors is fine.
        jobs.append({**common, "kind": "cli", "entry": "genstudio info", "argv": ["info", path], "must_fail": False})
        jobs.append({**common, "kind": "cli", "entry": "genstudio sample", "output": out, "must_fail": case["must_fail"],
                     "argv": ["sample", path, "--grid", "2x2", "--out", out]})
        # Resume reads what the others ignore (step, optimiser and RNG state, hyper-parameters, the data
        # source): it runs for those mutations, every tensor-level one and the bases.
        if any(word in case["mutation"] for word in RESUME_WORDS) or case["base"] == "-":
            jobs.append({**common, "kind": "cli", "entry": "genstudio train --resume", "must_fail": case["must_fail"],
                         "argv": ["train", "--resume", path, "--steps", "3", "--device", "cpu", "--quiet",
                                  "--autosave-every", "0", "--out", "resumed"]})
    results, stats = run_jobs(jobs, tmp_path / "run", markers)
    bad = report(jobs, results, len(cases), "checkpoints", stats)
    assert results[0]["outcome"] == "correct load", "the unmutated base checkpoint must load"
    assert not bad, f"{len(bad)} runs did not end in a clean error or a correct load (listed above)"


def test_fuzz_data_files(tmp_path):
    cases = fuzz_cases.data_cases(tmp_path / "data")
    assert len(cases) >= 100
    jobs = []
    for case in cases:
        common = {"names": case["names"], "label": Path(case["spec"].split("?")[0].split(":")[-1]).name or case["spec"],
                  "mutation": case["mutation"], "must_fail": case["must_fail"]}
        jobs.append({**common, "kind": "data", "entry": "load_dataset", "spec": case["spec"], "expect": case["expect"]})
        jobs.append({**common, "kind": "cli", "entry": "genstudio train",
                     "argv": ["train", "--data", case["spec"], "--steps", "1", "--device", "cpu", "--quiet"]})
    markers = tmp_path / "markers"
    markers.mkdir()
    results, stats = run_jobs(jobs, tmp_path / "run", markers)
    bad = report(jobs, results, len(cases), "data files", stats)
    good = [r for j, r in zip(jobs, results) if j["kind"] == "data" and j["expect"]]
    assert good and all(r["outcome"] == "correct load" for r in good[:1]), "the valid data cases must load"
    assert not bad, f"{len(bad)} runs did not end in a clean error or a correct load (listed above)"
