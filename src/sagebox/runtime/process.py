"""One host of a local execution: a process in its own process group, its output logged.

Every output line is escaped as SageMaker's CloudWatch logs show it, written to the
host's log and handed to the listener. `terminate` sends SIGTERM to the whole group,
then SIGKILL after the grace period, as SageMaker does when it stops a job.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sagebox.runtime.executor import LineListener
from sagebox.runtime.logs import LogWriter, escape_line


class JobProcess:
    """Runs argv in cwd with env; poll() and terminate() may be called from any thread."""

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
        self._popen: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> float:
        """Starts the process (OSError when the program cannot be run); the start time."""
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

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self._popen.poll() if self._popen else None

    def terminate(self) -> int | None:
        """SIGTERM to the group, SIGKILL after the grace period; the exit code once its
        output is all logged (None if it never started)."""
        popen = self._popen
        if popen is None:
            return None
        if popen.poll() is None:
            _signal_group(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout=self._grace)
            except subprocess.TimeoutExpired:
                _signal_group(popen.pid, signal.SIGKILL)
                popen.wait()
            # Children the process left behind go with it.
            _signal_group(popen.pid, signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return popen.returncode


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def end_group_if_marked(pid: int, variable: str, value: str) -> bool:
    """Kills the process group of `pid` if that process was started with ``variable=value``
    in its environment; a recycled pid belonging to anything else is never touched."""
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
