"""HostGroup: one process per host, all must succeed; a failure, stop or deadline ends them all."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sagebox.runtime.host_group import HostGroup
from sagebox.runtime.logs import LogWriter, read_events
from sagebox.runtime.process import ExitCause, JobProcess


def _group(tmp_path: Path, programs: dict[str, str]) -> tuple[HostGroup, list[LogWriter]]:
    logs = [LogWriter(tmp_path / "logs" / f"{host}.jsonl") for host in programs]
    processes = {
        host: JobProcess(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=dict(os.environ),
            log=log,
            grace_seconds=2,
        )
        for (host, code), log in zip(programs.items(), logs, strict=True)
    }
    return HostGroup(processes), logs


def test_every_host_exiting_zero_completes(tmp_path: Path) -> None:
    group, logs = _group(tmp_path, {"algo-1": "print('one')", "algo-2": "print('two')"})
    group.start()
    outcome = group.wait()
    assert (outcome.cause, outcome.failed_host, outcome.exit_code) == (ExitCause.EXITED, None, 0)
    assert outcome.exit_codes == {"algo-1": 0, "algo-2": 0}
    for log, word in zip(logs, ("one", "two"), strict=True):
        log.close()
        assert [e["message"] for e in read_events(log.path)] == [word]


def test_a_failing_host_stops_the_others_and_is_named(tmp_path: Path) -> None:
    group, _ = _group(
        tmp_path, {"algo-1": "import time; time.sleep(60)", "algo-2": "import sys; sys.exit(3)"}
    )
    began = time.time()
    group.start()
    outcome = group.wait()
    assert time.time() - began < 10
    assert (outcome.cause, outcome.failed_host, outcome.exit_code) == (
        ExitCause.EXITED,
        "algo-2",
        3,
    )
    assert outcome.exit_codes["algo-1"] != 0


def test_stop_and_deadline_end_every_host(tmp_path: Path) -> None:
    sleeping = "import time; time.sleep(60)"
    group, _ = _group(tmp_path, {"algo-1": sleeping, "algo-2": sleeping})
    group.start()
    group.stop()
    stopped = group.wait()
    assert (stopped.cause, stopped.failed_host) == (ExitCause.STOPPED, None)
    assert all(code is not None for code in stopped.exit_codes.values())

    group, _ = _group(tmp_path, {"algo-1": sleeping, "algo-2": sleeping})
    group.start()
    timed_out = group.wait(deadline=time.time() + 0.5)
    assert timed_out.cause is ExitCause.TIMED_OUT
    assert all(code is not None for code in timed_out.exit_codes.values())
