"""The executor on this machine: each host a local process group (the default backend).

Every process gets ``SAGEBOX_EXECUTION_ID`` in its environment; the execution's token
names it with the pids, so a restarted server ends exactly what its predecessor left
running and never a recycled pid.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sagebox.runtime.executor import (
    Execution,
    ExecutionOutcome,
    ExecutionToken,
    Executor,
    ExitCause,
    HostCommand,
    LineListener,
    first_ending,
)
from sagebox.runtime.logs import LogWriter
from sagebox.runtime.process import JobProcess, end_group_if_marked

MARKER_VARIABLE = "SAGEBOX_EXECUTION_ID"
POLL_SECONDS = 0.05


class LocalExecution(Execution):
    def __init__(self, processes: Mapping[str, JobProcess], logs: list[LogWriter], marker: str) -> None:
        self._processes = dict(processes)
        self._logs = logs
        self._marker = marker
        self._stop = threading.Event()
        self._started_at = time.time()
        self._outcome: ExecutionOutcome | None = None
        self._ending = threading.Lock()

    def _start(self) -> None:
        self._started_at = time.time()
        try:
            for process in self._processes.values():
                process.start()
        except BaseException:
            self._end_all(ExitCause.STOPPED, None)
            raise

    @property
    def started_at(self) -> float:
        return self._started_at

    @property
    def token(self) -> ExecutionToken:
        pids = [p.pid for p in self._processes.values() if p.pid is not None]
        return {"executor": LocalProcessExecutor.name, "marker": self._marker, "pids": pids}

    def exit_codes(self) -> dict[str, int | None]:
        return {host: process.poll() for host, process in self._processes.items()}

    def stop(self) -> None:
        self._stop.set()

    def wait(self, deadline: float | None = None) -> ExecutionOutcome:
        cause, failed = first_ending(
            self.exit_codes, self._stop, deadline, POLL_SECONDS, lambda: self._outcome is not None
        )
        return self._end_all(cause, failed)

    def terminate(self) -> ExecutionOutcome:
        self._stop.set()
        return self._end_all(ExitCause.STOPPED, None)

    def _end_all(self, cause: ExitCause, failed: str | None) -> ExecutionOutcome:
        """Ends every host still running, all at once; the first caller's outcome stands."""
        with self._ending:
            if self._outcome is not None:
                return self._outcome
            codes: dict[str, int | None] = {}

            def end(host: str, process: JobProcess) -> None:
                codes[host] = process.terminate()

            threads = [
                threading.Thread(target=end, args=item, name=f"end-{item[0]}", daemon=True)
                for item in self._processes.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for log in self._logs:
                log.close()
            exit_codes = {host: codes.get(host) for host in self._processes}
            self._outcome = ExecutionOutcome(cause, exit_codes, failed, self._started_at, time.time())
            return self._outcome


class LocalProcessExecutor(Executor):
    name = "local"

    def start(
        self,
        commands: Sequence[HostCommand],
        *,
        on_line: LineListener | None = None,
        grace_seconds: float = 10.0,
    ) -> Execution:
        if not commands:
            raise ValueError("an execution needs at least one host command")
        marker = uuid.uuid4().hex
        logs = {command.host: LogWriter(command.log_file) for command in commands}
        processes = {
            command.host: JobProcess(
                command.argv,
                cwd=command.cwd,
                env={**command.env, MARKER_VARIABLE: marker},
                log=logs[command.host],
                on_line=on_line,
                grace_seconds=grace_seconds,
            )
            for command in commands
        }
        execution = LocalExecution(processes, list(logs.values()), marker)
        execution._start()
        return execution

    def end_leftovers(self, token: Mapping[str, Any]) -> None:
        marker = token.get("marker")
        if token.get("executor") != self.name or not isinstance(marker, str):
            return
        for pid in token.get("pids") or []:
            if isinstance(pid, int):
                end_group_if_marked(pid, MARKER_VARIABLE, marker)
