"""A multi-process training run started from the app: `python -m torch.distributed.run ... -m genstudio
train ...` in a QProcess (the Train panel follows what it writes through its run folder).

Its output goes to the app's log line by line, and the line that says why it failed is kept for the
panel. Stop sends SIGTERM to torchrun, which forwards it to every worker; the CLI's handler
(cli/train.py stop_on_interrupt) saves the last finished step and ends. torchrun SIGKILLs a worker
still alive `GRACE_S` after that (TORCH_ELASTIC_SHUTDOWN_TIMEOUT); torchrun itself is killed only if it
outlives that by KILL_AFTER_S more, since killing it earlier would orphan its workers (each runs in a
session of its own, out of reach of a signal to torchrun's group).
"""

from __future__ import annotations

import logging
import os
from collections import deque

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

log = logging.getLogger(__name__)

GRACE_S = 20          # workers' time to save their last finished step after a stop, then SIGKILL
KILL_AFTER_S = 10     # torchrun's own time to reap them beyond that
KEPT_LINES = 200      # stderr lines kept to say why a run failed


def cpu_threads(processes: int) -> int:
    """OpenMP threads per process of a CPU run: the cores shared out, at least one each (torchrun's own
    default is 1 whatever the machine)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // processes)


def failure_line(lines) -> str:
    """The line of a failed run's stderr that says why: genstudio's own `genstudio: error: ...` if a
    worker wrote one, else the last line that is not one of torchrun's rules (==== / ----)."""
    lines = [line.strip() for line in lines if line.strip()]
    own = [line for line in lines if line.startswith("genstudio:")]
    if own:
        return own[-1]
    text = [line for line in lines if line.strip("=-")]
    return text[-1] if text else ""


class TorchrunProcess(QObject):
    """One torchrun launch. `finished(exit_code)`: -1 when it did not exit by itself (killed, crashed,
    or failed to start: then `error_text` says why)."""

    line = Signal(str)            # a line of its stdout or stderr
    finished = Signal(int)

    def __init__(self, program: str, arguments: list[str], processes: int, cpu: bool, parent=None):
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.setProgram(program)
        self.process.setArguments(arguments)
        env = QProcessEnvironment.systemEnvironment()
        if cpu and not env.contains("OMP_NUM_THREADS"):     # a value the person set stays
            env.insert("OMP_NUM_THREADS", str(cpu_threads(processes)))
        env.insert("TORCH_ELASTIC_SHUTDOWN_TIMEOUT", str(GRACE_S))
        env.insert("PYTHONUNBUFFERED", "1")                  # lines as they are written, not at exit
        self.process.setProcessEnvironment(env)
        self.stderr_lines: deque[str] = deque(maxlen=KEPT_LINES)
        self.error_text = ""
        self._partial = {QProcess.StandardOutput: b"", QProcess.StandardError: b""}
        self.process.readyReadStandardOutput.connect(lambda: self._read(QProcess.StandardOutput))
        self.process.readyReadStandardError.connect(lambda: self._read(QProcess.StandardError))
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval((GRACE_S + KILL_AFTER_S) * 1000)
        self._kill_timer.timeout.connect(self._kill)
        self._done = False

    def start(self) -> None:
        log.info("starting %s %s", self.process.program(), " ".join(self.process.arguments()))
        self.process.start()

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.NotRunning

    def terminate(self) -> None:
        """SIGTERM (workers save and end); killed if still alive after the grace period."""
        if self.running:
            self.process.terminate()
            if not self._kill_timer.isActive():
                self._kill_timer.start()

    def wait(self) -> bool:
        """Block until it ends (at most the grace period and torchrun's reaping time; then killed)."""
        if not self.running:
            return True
        if self.process.waitForFinished((GRACE_S + KILL_AFTER_S) * 1000):
            return True
        self._kill()
        return self.process.waitForFinished(5000)

    def _kill(self) -> None:
        if self.running:
            log.warning("torchrun did not end %d s after a stop: killed", GRACE_S + KILL_AFTER_S)
            self.process.kill()

    def _read(self, channel) -> None:
        if not self.process.isOpen():
            return                    # it never started: nothing to read
        self.process.setReadChannel(channel)
        data = self._partial[channel] + bytes(self.process.readAll())
        # tqdm redraws with \r: each redraw is a line of its own here.
        *lines, self._partial[channel] = data.replace(b"\r", b"\n").split(b"\n")
        for raw in lines:
            self._emit(raw, channel)

    def _emit(self, raw: bytes, channel) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip()
        if not text:
            return
        if channel == QProcess.StandardError:
            self.stderr_lines.append(text)
        log.info("torchrun: %s", text)
        self.line.emit(text)

    def _error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.error_text = f"cannot start {self.process.program()}: {self.process.errorString()}"
            self._finished(-1, QProcess.CrashExit)

    def _finished(self, code: int, status) -> None:
        if self._done:
            return
        self._done = True
        self._kill_timer.stop()
        for channel in (QProcess.StandardOutput, QProcess.StandardError):
            self._read(channel)
            if self._partial[channel]:
                self._emit(self._partial[channel], channel)
                self._partial[channel] = b""
        if not self.error_text and code != 0:
            self.error_text = failure_line(self.stderr_lines) or f"torchrun ended with exit code {code}"
        self.finished.emit(code if status == QProcess.NormalExit else -1)
