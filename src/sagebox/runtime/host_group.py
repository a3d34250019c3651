"""Several job processes run as one job, one per host: all of them succeed, or the job fails.

A multi-instance SageMaker training job ends when every host's container has exited
0; when one exits non-zero the others are stopped and the job fails with that host's
error. Stop and the runtime limit end every host the same way (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sagebox.runtime.process import ExitCause, JobProcess

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class GroupOutcome:
    cause: ExitCause
    exit_codes: dict[str, int | None]
    """Each host's exit code once it ended (None: it never started)."""
    failed_host: str | None
    """The first host seen exiting non-zero, when the hosts ran to their end."""

    @property
    def exit_code(self) -> int:
        """The failed host's exit code, else 0."""
        if self.failed_host is None:
            return 0
        return self.exit_codes.get(self.failed_host) or 1


class HostGroup:
    """Starts one JobProcess per host and waits for all; stop() may be called from any thread."""

    def __init__(self, processes: Mapping[str, JobProcess]) -> None:
        self._processes = dict(processes)
        self._stop = threading.Event()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes.values() if p.pid is not None]

    def start(self) -> float:
        """Starts every host in order; the time the first one started."""
        started = time.time()
        try:
            for process in self._processes.values():
                process.start()
        except BaseException:
            self._terminate_all()
            raise
        return started

    def stop(self) -> None:
        self._stop.set()

    def wait(self, deadline: float | None = None) -> GroupOutcome:
        """Blocks until every host has exited, one has failed, stop() was called, or `deadline` passed."""
        cause, failed = ExitCause.EXITED, None
        while True:
            codes = {host: process.poll() for host, process in self._processes.items()}
            failed = next((host for host, code in codes.items() if code not in (None, 0)), None)
            if failed is not None or all(code is not None for code in codes.values()):
                break
            if self._stop.is_set():
                cause = ExitCause.STOPPED
                break
            if deadline is not None and time.time() >= deadline:
                cause = ExitCause.TIMED_OUT
                break
            time.sleep(POLL_SECONDS)
        return GroupOutcome(cause, self._terminate_all(), failed)

    def _terminate_all(self) -> dict[str, int | None]:
        """Ends every host still running, all at once; each host's exit code."""
        codes: dict[str, int | None] = {}

        def end(host: str, process: JobProcess) -> None:
            codes[host] = process.terminate()

        threads = [
            threading.Thread(target=end, args=(host, process), name=f"stop-{host}", daemon=True)
            for host, process in self._processes.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {host: codes.get(host) for host in self._processes}
