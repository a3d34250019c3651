"""The executor seam: start the commands of a job's hosts, wait for them, stop them.

Everything sagebox runs is one or more host commands: a training job's algo-1..N, a
processing job, a setup step such as pip, the model server of an endpoint or transform
instance. A runner describes each host's command (argv, working folder, environment,
log file) and hands them to an `Executor`; the `Execution` it gets back is all it ever
touches: `wait` (with a deadline), `stop` (SIGTERM, then SIGKILL after the grace
period), `terminate`, the hosts' exit codes, and a `token` a restarted server gives
back to `Executor.end_leftovers` to end what the previous server left running.

A server host (an endpoint instance's model server) names the variable of the port it
listens on (`HostCommand.port_variable`): an executor whose hosts run on other machines
picks the port on the host's node, and `Execution.listening` says where to reach it.

`LocalProcessExecutor` (runtime/local_executor.py) runs each host as a process group on
this machine; `RayExecutor` (runtime/ray_executor.py) runs each host on a node of a Ray
cluster. Both pass the same contract suite (tests/runtime/test_executor_contract.py).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagebox.runtime.node_data import NodeData

# Called with each line a host prints (escaped as CloudWatch shows it) and its time.
LineListener = Callable[[str, float], None]
# Set in a server host's environment by an executor that placed it on another machine: the
# address of its node, to listen on instead of the loopback.
BIND_ADDRESS_VARIABLE = "SAGEBOX_BIND_ADDRESS"
# How often an executor whose hosts run elsewhere brings back a host's `synced` folders.
SYNC_SECONDS = 1.0
# What a restarted server needs to find and end an execution's leftovers (JSON-serialisable).
ExecutionToken = dict[str, Any]


class ExitCause(Enum):
    EXITED = "exited"  # every host ended by itself, or one failed
    STOPPED = "stopped"  # stop() was asked for
    TIMED_OUT = "timed_out"  # the execution outlived its deadline


@dataclass(frozen=True)
class HostCommand:
    """One host's process: what to run, where, with which environment, logging where.

    The log file receives one JSON line per output line (`runtime.logs` format).

    `workspace` is the host's own folder (its /opt/ml tree), when it has one: an executor
    whose hosts run on other machines copies it to the host's node before the start and
    brings back what the host wrote there after the end, every path under it in argv, cwd
    and env pointing at the node's copy. A command without one runs on the API server's
    machine (a model server, a setup step). `instance_type` is the SageMaker instance
    type whose resources a cluster executor reserves for the host. `synced` names folders
    of the workspace (relative to it: a training job's checkpoints) that such an executor
    also brings back while the host runs, every `SYNC_SECONDS`, so that what the host
    wrote there survives the loss of its node.
    """

    host: str
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    log_file: Path
    workspace: Path | None = None
    instance_type: str | None = None
    synced: tuple[str, ...] = ()
    port_variable: str | None = None
    """A server host's port: the variable naming the TCP port it listens on. An executor
    that runs the host on another machine picks a free port on that node, sets it there
    with BIND_ADDRESS_VARIABLE (the node's address), copies the workspace in but brings
    nothing back; `Execution.listening` tells where the server is."""
    spread: str | None = None
    """Server hosts of separate executions with the same key (a variant's instances) are
    placed on different nodes where the cluster has enough."""
    node_data: NodeData | None = None
    """For an executor that `moves_data_on_nodes`: the inputs the host's node stages from
    the object store itself, its checkpoint sync and the outputs it uploads
    (runtime/node_data.py). Those files are not in `workspace` on this machine and do not
    come back to it."""


@dataclass(frozen=True)
class Listening:
    """Where a server host placed on a cluster node listens."""

    address: str
    port: int
    node: str
    """The node's id in its cluster."""


@dataclass(frozen=True)
class ExecutionOutcome:
    cause: ExitCause
    exit_codes: dict[str, int | None]
    """Each host's exit code once it ended (None: it never started)."""
    failed_host: str | None
    """The first host seen exiting non-zero, when the hosts ran to their end."""
    started_at: float
    ended_at: float = field(default=0.0)
    lost_hosts: tuple[str, ...] = ()
    """Hosts that went away with their machine (a cluster node lost), not by exiting."""

    @property
    def exit_code(self) -> int:
        """The failed host's exit code, else 0."""
        if self.failed_host is None:
            return 0
        return self.exit_codes.get(self.failed_host) or 1


class Execution(ABC):
    """The running commands of one start(): all hosts succeed, or the execution fails.

    When a host exits non-zero the others are ended and that host is the failed one;
    stop() and the deadline end every host alike. Any thread may call stop().
    """

    @property
    @abstractmethod
    def started_at(self) -> float:
        """When the first host started (epoch seconds)."""

    @property
    @abstractmethod
    def token(self) -> ExecutionToken:
        """What `Executor.end_leftovers` needs after a restart."""

    @abstractmethod
    def wait(self, deadline: float | None = None) -> ExecutionOutcome:
        """Blocks until every host has exited, one has failed, stop() was called, or
        `deadline` (epoch seconds) has passed; every host is ended before it returns."""

    @abstractmethod
    def stop(self) -> None:
        """Asks the execution to end; wait() then reports ExitCause.STOPPED."""

    @abstractmethod
    def exit_codes(self) -> dict[str, int | None]:
        """Each host's exit code so far (None while it runs)."""

    @abstractmethod
    def terminate(self) -> ExecutionOutcome:
        """Ends every host now (SIGTERM, SIGKILL after the grace period) and waits."""

    def listening(self, host: str) -> Listening | None:
        """Where a server host listens when the executor chose it (a cluster node's address
        and a port of that node); None when the command's own environment says (this
        machine's loopback)."""
        return None

    def running(self) -> bool:
        """True while every host is still running."""
        return all(code is None for code in self.exit_codes().values())

    def upload(self) -> list[dict[str, Any]] | None:
        """After every host ended with 0: uploads the outputs its commands' `node_data` name
        from the hosts' nodes (each object's uri, size, etag and sha256); an
        ObjectStoreError when the store refused. None when this execution has no such
        upload pending (its outputs came back to the workspaces: the caller uploads them)."""
        return None

    def release(self) -> None:
        """Lets go of hosts kept for `upload` when it is not called (idempotent)."""
        return None


def first_ending(
    exit_codes: Callable[[], dict[str, int | None]],
    stop: threading.Event,
    deadline: float | None,
    poll_seconds: float,
    settled: Callable[[], bool],
) -> tuple[ExitCause, str | None]:
    """Polls an execution's hosts until what ends it happens: a host failed (that host),
    every host exited, stop was asked, or the deadline passed; or it was `settled`
    meanwhile by another thread. The one wait loop of every executor's `Execution.wait`."""
    cause, failed = ExitCause.EXITED, None
    while not settled():
        codes = exit_codes()
        failed = next((host for host, code in codes.items() if code not in (None, 0)), None)
        if failed is not None or all(code is not None for code in codes.values()):
            break
        if stop.is_set():
            cause = ExitCause.STOPPED
            break
        if deadline is not None and time.time() >= deadline:
            cause = ExitCause.TIMED_OUT
            break
        time.sleep(poll_seconds)
    return cause, failed


class Executor(ABC):
    """Starts host commands; one implementation per compute backend."""

    name = ""
    moves_data_on_nodes = False
    """Whether HostCommand.node_data is honoured: the hosts' nodes move their data to and
    from an S3 object store themselves."""

    def connect(self) -> None:
        """Reaches the compute backend now, so that a wrong address fails the server's start
        rather than its first job (ConnectionError); nothing to do for local processes."""
        return None

    @abstractmethod
    def start(
        self,
        commands: Sequence[HostCommand],
        *,
        on_line: LineListener | None = None,
        grace_seconds: float = 10.0,
    ) -> Execution:
        """Starts every host in order; raises OSError when a program cannot be started
        (nothing is left running then)."""

    @abstractmethod
    def end_leftovers(self, token: Mapping[str, Any]) -> None:
        """Ends whatever an execution started by an earlier server left running; never
        touches a process that is not that execution's."""
