"""A job as a local process in its own process group: log capture, stop, timeout."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sagebox.runtime.logs import LogWriter, escape_line

LineListener = Callable[[str, float], None]


class ExitCause(Enum):
    EXITED = "exited"  # the process ended by itself
    STOPPED = "stopped"  # stop() was asked for
    TIMED_OUT = "timed_out"  # the run outlived its deadline


@dataclass(frozen=True)
class ProcessOutcome:
    exit_code: int
    cause: ExitCause
    started_at: float
    ended_at: float


class JobProcess:
    """Runs argv in cwd; every output line is escaped, logged and handed to listeners.

    stop() and the deadline send SIGTERM to the whole process group, then SIGKILL
    after `grace_seconds`, as SageMaker does when it stops a job.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: LogWriter,
        on_line: LineListener | None = None,
        grace_seconds: float = 10.0,
    ) -> None:
        self._argv = list(argv)
        self._cwd = cwd
        self._env = dict(env)
        self._log = log
        self._on_line = on_line
        self._grace = grace_seconds
        self._stop_requested = threading.Event()
        self._popen: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> float:
        self._popen = subprocess.Popen(
            self._argv,
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._pump, name=f"log-{self._popen.pid}", daemon=True)
        self._reader.start()
        return time.time()

    def _pump(self) -> None:
        stream = self._popen.stdout if self._popen else None
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            now = time.time()
            line = escape_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
            self._log.write(line, now)
            if self._on_line is not None:
                self._on_line(line, now)
        stream.close()

    def stop(self) -> None:
        """Ask the process to stop; wait() then reports ExitCause.STOPPED."""
        self._stop_requested.set()

    def wait(self, deadline: float | None = None, started_at: float | None = None) -> ProcessOutcome:
        """Block until the process ends, is stopped, or passes `deadline` (epoch seconds)."""
        popen = self._popen
        if popen is None:
            raise RuntimeError("the job process was never started")
        started = started_at or time.time()
        cause = ExitCause.EXITED
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=0.05)
                break
            if self._stop_requested.is_set():
                cause = ExitCause.STOPPED
                break
            if deadline is not None and time.time() >= deadline:
                cause = ExitCause.TIMED_OUT
                break
        if popen.returncode is None:
            self._terminate(popen)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return ProcessOutcome(popen.returncode, cause, started, time.time())

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self._popen.poll() if self._popen else None

    def terminate(self) -> int | None:
        """SIGTERM to the group, SIGKILL after the grace period; the exit code."""
        popen = self._popen
        if popen is None:
            return None
        if popen.poll() is None:
            self._terminate(popen)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return popen.returncode

    def _terminate(self, popen: subprocess.Popen[bytes]) -> None:
        self._signal_group(popen, signal.SIGTERM)
        try:
            popen.wait(timeout=self._grace)
        except subprocess.TimeoutExpired:
            self._signal_group(popen, signal.SIGKILL)
            popen.wait()
        # Children the job left behind go with it.
        self._signal_group(popen, signal.SIGKILL)

    @staticmethod
    def _signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, sig)


def end_orphan(pid: int, marker: str) -> bool:
    """Kills the process group a previous server left running, if `pid` is still that job.

    The command line must contain `marker` (the job's entry module), so a recycled pid
    belonging to something else is never touched.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if marker not in cmdline:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
        return True
    return False


def end_orphan_of_job(pid: int, variable: str, value: str) -> bool:
    """Kills the process group a previous server left running, if `pid` is still that job.

    A job that runs any command (a ContainerEntrypoint, a processing job) cannot be told
    by its command line, so the process is recognised by ``variable=value`` in the
    environment it started with (the job's ARN); a recycled pid is never touched.
    """
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    if f"{variable}={value}".encode() not in environ:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
        return True
    return False
