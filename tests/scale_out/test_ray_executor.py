"""The Ray executor beyond the shared contract: workspaces travel to the node and back,
hosts spread over nodes, rendezvous at algo-1's node, reservations from instance types."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sagebox.runtime import open_executor
from sagebox.runtime.executor import ExitCause, HostCommand
from sagebox.runtime.instance_types import instance_resources
from sagebox.runtime.logs import read_events

ray_executor = pytest.importorskip(
    "sagebox.runtime.ray_executor", reason="the Ray executor needs the 'ray' extra"
)


@pytest.fixture
def executor(ray_cluster: str) -> ray_executor.RayExecutor:
    from tests.ray_cluster import EXECUTOR_URL

    return open_executor(EXECUTOR_URL)


def command(
    tmp_path: Path, host: str, code: str, *, env: dict[str, str] | None = None, **fields: str
) -> HostCommand:
    workspace = tmp_path / host
    workspace.mkdir(parents=True, exist_ok=True)
    variables = {**os.environ, "SM_MODEL_DIR": str(workspace / "model"), **(env or {})}
    return HostCommand(
        host,
        [sys.executable, "-c", code],
        workspace,
        variables,
        tmp_path / "logs" / f"{host}.jsonl",
        workspace=workspace,
        **fields,
    )


def lines(host: HostCommand) -> list[str]:
    return [str(e["message"]) for e in read_events(host.log_file)]


def test_the_workspace_is_copied_to_the_node_and_what_the_host_wrote_comes_back(
    executor, tmp_path: Path
) -> None:
    code = (
        "import os, pathlib\n"
        "print(os.getcwd(), flush=True)\n"
        "print(pathlib.Path('input/data.txt').read_text(), flush=True)\n"
        "model = pathlib.Path(os.environ['SM_MODEL_DIR'])\n"
        "model.mkdir(exist_ok=True)\n"
        "(model / 'weights.txt').write_text('trained')\n"
    )
    host = command(tmp_path, "algo-1", code)
    (host.workspace / "input").mkdir()
    (host.workspace / "input" / "data.txt").write_text("rows")
    outcome = executor.start([host]).wait()
    assert outcome.exit_codes == {"algo-1": 0}
    node_cwd, data = lines(host)
    assert node_cwd != str(host.workspace) and node_cwd.endswith(
        "/workspace"
    )  # the node's own copy
    assert data == "rows"
    assert (host.workspace / "model" / "weights.txt").read_text() == "trained"
    assert not Path(node_cwd).exists()  # the node's copy is removed at the end


def test_hosts_spread_over_nodes_and_meet_at_the_leaders_node(executor, tmp_path: Path) -> None:
    code = (
        "import json, os\n"
        "print(json.dumps({k: os.environ[k] for k in ('SAGEBOX_RAY_NODE_ID', 'SAGEBOX_RAY_NODE_ADDRESS', 'MASTER_ADDR')}))"
    )
    hosts = [
        command(tmp_path, f"algo-{n}", code, env={"MASTER_ADDR": "127.0.0.1"}) for n in (1, 2, 3)
    ]
    execution = executor.start(hosts)
    outcome = execution.wait()
    assert outcome.cause is ExitCause.EXITED and outcome.exit_code == 0
    seen = [json.loads(lines(h)[0]) for h in hosts]
    assert len({s["SAGEBOX_RAY_NODE_ID"] for s in seen}) == 3  # one node each
    assert {s["MASTER_ADDR"] for s in seen} == {seen[0]["SAGEBOX_RAY_NODE_ADDRESS"]}
    assert {h: p["node_id"] for h, p in execution.placement.items()} == {
        h.host: s["SAGEBOX_RAY_NODE_ID"] for h, s in zip(hosts, seen, strict=True)
    }


def test_a_host_no_node_can_hold_is_refused_naming_its_instance_type(
    executor, tmp_path: Path
) -> None:
    host = command(tmp_path, "algo-1", "print('never')", instance_type="ml.p3.2xlarge")
    with pytest.raises(OSError, match=r"ml\.p3\.2xlarge.*GPU=1"):
        executor.start([host])
    assert lines(host) == []


def test_instance_types_reserve_their_published_resources() -> None:
    m5 = instance_resources("ml.m5.xlarge")
    assert (m5.vcpus, m5.memory_gib, m5.gpus) == (4, 16, 0)
    assert instance_resources("ml.g5.12xlarge").gpus == 4
    guess = instance_resources("ml.m7i.2xlarge")  # not in the table: from its size name
    assert (guess.vcpus, guess.memory_gib, guess.gpus) == (8, 32, 0)
    quarter = m5.scaled(0.25)
    assert (quarter.vcpus, quarter.memory_gib) == (1, 4)
    assert instance_resources("ml.p3.2xlarge").scaled(0.1).gpus == 1  # GPUs stay whole


def test_executor_urls() -> None:
    executor = open_executor("ray://head.example:10001?resource_scale=0.5&placement_timeout=30")
    assert (executor.address, executor.resource_scale, executor.placement_timeout) == (
        "ray://head.example:10001",
        0.5,
        30,
    )
    assert open_executor("ray://auto").address == "auto"
    with pytest.raises(ValueError, match="resource_sale"):
        open_executor("ray://auto?resource_sale=2")
    with pytest.raises(ValueError, match="above 0"):
        open_executor("ray://auto?resource_scale=0")


def test_a_host_whose_node_is_lost_fails_the_execution_naming_it(
    executor, ray_cluster, tmp_path: Path
) -> None:
    code = "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(30)"
    hosts = [command(tmp_path, f"algo-{n}", code) for n in (1, 2)]
    execution = executor.start(hosts)
    deadline = time.time() + 20
    while not all(lines(h) for h in hosts) and time.time() < deadline:
        time.sleep(0.05)
    victim = next(
        h
        for h in hosts
        if ray_cluster.worker_node(execution.placement[h.host]["node_id"]) is not None
    )
    pid = int(lines(victim)[0])
    try:
        ray_cluster.lose_node(ray_cluster.worker_node(execution.placement[victim.host]["node_id"]))
        outcome = execution.wait(deadline=time.time() + 60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # on a real cluster the process went with its machine
    assert (outcome.cause, outcome.failed_host) == (ExitCause.EXITED, victim.host)
    assert outcome.exit_codes[victim.host] == -signal.SIGKILL
    assert lines(victim)[-1].startswith(f"sagebox: host {victim.host} was lost with its Ray node ")
    survivor = next(h for h in hosts if h is not victim)
    assert outcome.exit_codes[survivor.host] not in (None, 0)  # ended with the execution


def test_shell_scripts_in_the_workspace_name_the_nodes_copy(executor, tmp_path: Path) -> None:
    """A script the job received has its /opt/ml paths rewritten to the server's workspace;
    on the node they lead to the node's copy."""
    host = command(tmp_path, "algo-1", "")
    script = host.workspace / "processing" / "input" / "code" / "run.sh"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\necho {host.workspace}/processing/input\npwd\n")
    host = replace(host, argv=["sh", str(script)])
    outcome = executor.start([host]).wait()
    assert outcome.exit_codes == {"algo-1": 0}, lines(host)
    named, node_cwd = lines(host)
    assert named == f"{node_cwd}/processing/input" and node_cwd != str(host.workspace)
    assert str(host.workspace) in script.read_text()  # the server's copy is left as it was
