"""The executor contract: every compute backend runs host commands the same way.

Each test runs over every executor implementation (the `executor` fixture is
parametrised): local processes, and a real three-node Ray cluster on this machine
(tests/ray_cluster.py) where every host is an actor with its own copy of its workspace.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sagebox.runtime import open_executor
from sagebox.runtime.executor import Executor, ExitCause, HostCommand
from sagebox.runtime.logs import escape_line, read_events
from sagebox.runtime.metrics import MetricExtractor

Commands = Callable[..., list[HostCommand]]


@pytest.fixture(params=["local", "ray"])
def executor(request: pytest.FixtureRequest) -> Executor:
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        from tests.ray_cluster import EXECUTOR_URL

        return open_executor(EXECUTOR_URL)
    return open_executor(request.param)


@pytest.fixture
def commands(tmp_path: Path) -> Commands:
    """Host commands running Python snippets: commands(algo_1=code, algo_2=code, ...)."""

    def make(**programs: str) -> list[HostCommand]:
        return [host_command(tmp_path, host.replace("_", "-"), [sys.executable, "-c", code]) for host, code in programs.items()]

    return make


def host_command(tmp_path: Path, host: str, argv: list[str]) -> HostCommand:
    """A host running in its own workspace folder (which a cluster executor ships to its node)."""
    workspace = tmp_path / "hosts" / host
    workspace.mkdir(parents=True, exist_ok=True)
    log_file = tmp_path / "logs" / f"{host}.jsonl"
    return HostCommand(host, argv, workspace, dict(os.environ), log_file, workspace=workspace)


def messages(command: HostCommand) -> list[str]:
    return [str(e["message"]) for e in read_events(command.log_file)]


SLEEPER = "print('ready', flush=True)\nimport time\ntime.sleep(60)"


def test_tabs_are_escaped_as_sagemaker_logs_show_them() -> None:
    assert escape_line("[3]\ttrain-rmse:0.5\tvalidation-rmse:0.6") == "[3]#011train-rmse:0.5#011validation-rmse:0.6"
    assert escape_line("bell\x07") == "bell#007"


def test_every_host_exiting_zero_completes_with_its_own_log(executor: Executor, commands: Commands) -> None:
    hosts = commands(algo_1="print('one')", algo_2="import sys\nprint('two', file=sys.stderr)")
    outcome = executor.start(hosts).wait()
    assert (outcome.cause, outcome.failed_host, outcome.exit_code) == (ExitCause.EXITED, None, 0)
    assert outcome.exit_codes == {"algo-1": 0, "algo-2": 0}
    assert [messages(h) for h in hosts] == [["one"], ["two"]]
    assert outcome.ended_at >= outcome.started_at


def test_lines_reach_the_listener_escaped_and_metrics_are_extracted(executor: Executor, commands: Commands) -> None:
    extractor = MetricExtractor([{"Name": "validation:rmse", "Regex": r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+)"}])
    code = "for i in range(3): print(f'[{i}]\\ttrain-rmse:1\\tvalidation-rmse:{0.5 - i/10}')"
    (host,) = commands(algo_1=code)
    executor.start([host], on_line=extractor.feed).wait()
    assert messages(host) == [f"[{i}]#011train-rmse:1#011validation-rmse:{0.5 - i / 10}" for i in range(3)]
    (latest,) = extractor.latest()
    assert (latest.name, latest.value, latest.step) == ("validation:rmse", 0.3, 2)


def test_a_failing_host_stops_the_others_and_is_named(executor: Executor, commands: Commands) -> None:
    began = time.time()
    outcome = executor.start(commands(algo_1=SLEEPER, algo_2="import sys; sys.exit(3)")).wait()
    assert time.time() - began < 10
    assert (outcome.cause, outcome.failed_host, outcome.exit_code) == (ExitCause.EXITED, "algo-2", 3)
    assert outcome.exit_codes["algo-1"] not in (None, 0)


def test_stop_sends_sigterm_first_to_every_host(executor: Executor, commands: Commands) -> None:
    code = (
        "import signal, sys, time\n"
        "def bye(*_):\n    print('got SIGTERM', flush=True); sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(60)"
    )
    hosts = commands(algo_1=code, algo_2=code)
    execution = executor.start(hosts, grace_seconds=5)
    deadline = time.time() + 20
    while not all(messages(h) for h in hosts) and time.time() < deadline:
        time.sleep(0.05)
    threading.Thread(target=execution.stop).start()  # from another thread, as StopTrainingJob does
    outcome = execution.wait()
    assert (outcome.cause, outcome.failed_host) == (ExitCause.STOPPED, None)
    assert outcome.exit_codes == {"algo-1": 143, "algo-2": 143}
    assert [messages(h) for h in hosts] == [["ready", "got SIGTERM"]] * 2


def test_a_host_ignoring_sigterm_is_killed_after_the_grace_period(executor: Executor, commands: Commands) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"
    (host,) = commands(algo_1=code)
    execution = executor.start([host], grace_seconds=0.5)
    deadline = time.time() + 20
    while not messages(host) and time.time() < deadline:
        time.sleep(0.05)
    outcome = execution.terminate()
    assert outcome.exit_codes["algo-1"] == -signal.SIGKILL
    assert outcome.ended_at - outcome.started_at < 25


def test_the_deadline_times_out_and_ends_what_the_hosts_started(executor: Executor, commands: Commands) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\ntime.sleep(60)"
    )
    (host,) = commands(algo_1=code)
    outcome = executor.start([host], grace_seconds=1).wait(deadline=time.time() + 1.5)
    assert outcome.cause is ExitCause.TIMED_OUT
    assert outcome.exit_codes["algo-1"] is not None
    child = int(messages(host)[0])
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_running_exit_codes_and_terminate_of_a_long_lived_host(executor: Executor, commands: Commands) -> None:
    execution = executor.start(commands(server=SLEEPER), grace_seconds=2)
    time.sleep(0.3)
    assert execution.running() and execution.exit_codes() == {"server": None}
    outcome = execution.terminate()
    assert not execution.running()
    assert outcome.cause is ExitCause.STOPPED
    assert execution.terminate() == outcome  # ending twice changes nothing


def test_a_program_that_cannot_start_raises_and_leaves_nothing_running(
    executor: Executor, commands: Commands, tmp_path: Path
) -> None:
    (first,) = commands(algo_1="import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)")
    missing = host_command(tmp_path, "algo-2", [str(tmp_path / "no-such-program")])
    with pytest.raises(OSError):
        executor.start([first, missing])
    for line in messages(first):  # if it got to print its pid, it is gone now
        pid = int(line)
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_end_leftovers_ends_an_execution_a_previous_server_left(executor: Executor, commands: Commands) -> None:
    hosts = commands(algo_1="import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)")
    execution = executor.start(hosts)
    deadline = time.time() + 20
    while not messages(hosts[0]) and time.time() < deadline:
        time.sleep(0.05)
    pid = int(messages(hosts[0])[0])
    open_executor(executor.name).end_leftovers(execution.token)  # as a restarted server would
    outcome = execution.wait(deadline=time.time() + 10)
    assert outcome.cause is ExitCause.EXITED and outcome.exit_codes["algo-1"] == -signal.SIGKILL
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_end_leftovers_never_touches_a_process_it_did_not_start(executor: Executor, commands: Commands) -> None:
    other = executor.start(commands(other=SLEEPER))
    try:
        executor.end_leftovers({**other.token, "marker": "not-this-one"})
        time.sleep(0.3)
        assert other.running()
    finally:
        other.terminate()
