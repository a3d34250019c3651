"""The executor on a Ray cluster: each host of a job a Ray actor on a node of its own.

``open_executor("ray://HOST:PORT")`` connects through Ray Client (the head's client
server, port 10001 by default); ``ray://auto`` (or ``ray``) joins the cluster this machine
is a node of (``RAY_ADDRESS``, else the one ``ray start`` last started here). Query
parameters tune it: ``resource_scale`` multiplies every reservation (``0.25`` lets an
ml.m5.xlarge host, 4 vCPUs and 16 GiB, fit a one-CPU test node), ``placement_timeout``
is how long a job waits for the cluster to have room (seconds, default 600).

Each host is a `HostProcess` actor (runtime/ray_host.py) reserving the vCPUs, memory
and GPUs of the host's instance type (runtime/instance_types.py). A multi-host start()
is one placement group with a bundle per host, placed SPREAD so that the hosts land on
different nodes where there are enough, each actor in its bundle; a single host is
placed by its own reservation. The host's workspace travels
to its node through Ray's object store and what the host wrote comes back the same way
when it ends, so no node needs the API server's file system. The rendezvous address
(MASTER_ADDR) of a multi-host job is algo-1's node. The executor reads every host's
lines several times a second into the API server's log files and listeners; stop,
deadlines and a failing host end every host with SIGTERM, then SIGKILL after the grace
period, as on one machine. A host whose node is lost exits with -SIGKILL and a log line
saying so. Actors and placement groups are detached and named after the execution's
marker, so a restarted server ends what its predecessor left through the token; server
hosts' too: an endpoint's instances keep serving while another API server takes the
endpoint over, which ends them once its own instances serve.

A server host (the model server of an endpoint or batch transform instance,
`HostCommand.port_variable`) is an actor like a job's host, running the same model server
command it would run locally: its model folder travels to the node as its workspace (and
nothing comes back), it listens on the node's address and a port the node picks, and
`RayExecution.listening` tells the API server where to send requests. Server hosts
sharing a `spread` key (a variant's instances, a transform job's instances) are sent to
different nodes (node affinity, soft) while there are nodes without one; when the node
of one dies its actor is lost like a job's host, which the endpoint supervisor sees and
replaces on a node still alive (a transform job's dispatcher sends its batches to the
job's other instances).

Commands without a workspace (setup steps) run on the API server's machine with the
local executor.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import ray
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import (
    NodeAffinitySchedulingStrategy,
    PlacementGroupSchedulingStrategy,
)

from sagebox.objects import error_for_code
from sagebox.runtime.executor import (
    SYNC_SECONDS,
    Execution,
    ExecutionOutcome,
    ExecutionToken,
    Executor,
    ExitCause,
    HostCommand,
    LineListener,
    Listening,
    first_ending,
)
from sagebox.runtime.instance_types import InstanceResources, instance_resources
from sagebox.runtime.local_executor import LocalProcessExecutor
from sagebox.runtime.logs import LogWriter
from sagebox.runtime.ray_host import HostProcess, lay_files, pack_folder, unpack_folder

log = logging.getLogger(__name__)

NAMESPACE = "sagebox"
POLL_SECONDS = 0.1
CALL_TIMEOUT_S = 60.0
RENDEZVOUS_ADDRESS_VARIABLES = ("MASTER_ADDR",)
# How long a node that lost a host gets no new server host of a spread key.
LOST_NODE_AVOIDED_S = 120.0
_RemoteHost = ray.remote(HostProcess)
_connecting = threading.Lock()


def _actor_name(marker: str, host: str) -> str:
    return f"sagebox-{marker}-{host}"


@dataclass
class _Host:
    command: HostCommand
    actor: Any
    log: LogWriter
    code: int | None = None
    lost: bool = False
    node: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    """A server host's port on its node."""


class _Spread:
    """Which node each running server host of a spread key was sent to, so that the next
    host of that key goes to a node without one (the least busy such node), never to a
    node that just lost a host: Ray declares a node dead seconds after its actors stop
    answering, and the replacement of a lost instance starts at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[str, dict[str, str]] = {}  # key -> execution marker -> node id
        self._lost: dict[str, float] = {}  # node id -> when a host was lost with it

    def lost(self, node: str) -> None:
        with self._lock:
            self._lost[node] = time.monotonic()

    def choose(self, key: str, marker: str, candidates: Sequence[str]) -> str | None:
        """A node of `candidates` holding no host of `key` (None if each holds one),
        booked for `marker` at once so that concurrent starts go apart."""
        with self._lock:
            booked = self._nodes.setdefault(key, {})
            load = Counter(node for nodes in self._nodes.values() for node in nodes.values())
            recent = time.monotonic() - LOST_NODE_AVOIDED_S
            avoided = {node for node, at in self._lost.items() if at > recent}
            free = [node for node in candidates if node not in booked.values() and node not in avoided]
            if not free:
                return None
            chosen = min(free, key=lambda node: (load[node], node))
            booked[marker] = chosen
            return chosen

    def placed(self, key: str, marker: str, node: str) -> None:
        with self._lock:
            self._nodes.setdefault(key, {})[marker] = node

    def release(self, key: str, marker: str) -> None:
        with self._lock:
            booked = self._nodes.get(key, {})
            booked.pop(marker, None)
            if not booked:
                self._nodes.pop(key, None)


class RayExecution(Execution):
    def __init__(
        self,
        hosts: list[_Host],
        group: PlacementGroup | None,
        marker: str,
        on_line: LineListener | None,
        on_end: Callable[[], None] = lambda: None,
        on_lost: Callable[[str], None] = lambda _: None,
    ) -> None:
        self._hosts = hosts
        self._on_end = on_end
        self._on_lost = on_lost
        self._group = group
        self._marker = marker
        self._on_line = on_line
        self._stop = threading.Event()
        self._ending = threading.Event()
        self._end_lock = threading.Lock()
        self._outcome: ExecutionOutcome | None = None
        self._uploading = False  # ended well, hosts kept until upload() or release()
        self._started_at = time.time()
        self._pump = threading.Thread(
            target=self._pump_lines, name=f"ray-{marker[:8]}", daemon=True
        )

    # -- the view every runner uses --------------------------------------------------------

    @property
    def started_at(self) -> float:
        return self._started_at

    @property
    def token(self) -> ExecutionToken:
        return {
            "executor": RayExecutor.name,
            "marker": self._marker,
            "hosts": [h.command.host for h in self._hosts],
        }

    @property
    def placement(self) -> dict[str, dict[str, str]]:
        """Each host's Ray node (its node_id and address)."""
        return {h.command.host: dict(h.node) for h in self._hosts}

    def exit_codes(self) -> dict[str, int | None]:
        return {h.command.host: h.code for h in self._hosts}

    def listening(self, host: str) -> Listening | None:
        for h in self._hosts:
            if h.command.host == host and h.port is not None:
                return Listening(h.node["address"], h.port, h.node["node_id"])
        return None

    def stop(self) -> None:
        self._stop.set()

    def wait(self, deadline: float | None = None) -> ExecutionOutcome:
        cause, failed = first_ending(
            self.exit_codes, self._stop, deadline, POLL_SECONDS / 2, lambda: self._outcome is not None
        )
        return self._end_all(cause, failed)

    def terminate(self) -> ExecutionOutcome:
        self._stop.set()
        return self._end_all(ExitCause.STOPPED, None)

    # -- streaming ---------------------------------------------------------------------------

    def _deliver(self, host: _Host, lines: list[tuple[str, float]]) -> None:
        for line, at in lines:
            host.log.write(line, at)
            if self._on_line is not None:
                self._on_line(line, at)

    def _lose(self, host: _Host) -> None:
        if host.lost:
            return
        host.lost = True
        host.code = -signal.SIGKILL if host.code is None else host.code
        node = host.node.get("address", "unknown")
        host.log.write(f"sagebox: host {host.command.host} was lost with its Ray node {node}")
        if "node_id" in host.node:
            self._on_lost(host.node["node_id"])

    def _read(self, running: list[_Host]) -> None:
        refs = [h.actor.read.remote() for h in running]
        for host, ref in zip(running, refs, strict=True):
            try:
                lines, code = ray.get(ref, timeout=CALL_TIMEOUT_S)
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                self._lose(host)
                continue
            self._deliver(host, lines)
            if code is not None and host.code is None:
                host.code = code

    def _sync(self, running: list[_Host]) -> None:
        """Brings back what each running host wrote in its `synced` folders since the last time."""
        syncing = [h for h in running if h.command.synced and h.command.workspace is not None]
        refs = [h.actor.collect.remote(list(h.command.synced)) for h in syncing]
        for host, ref in zip(syncing, refs, strict=True):
            try:
                archive = ray.get(ref, timeout=CALL_TIMEOUT_S)
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                self._lose(host)
                continue
            except ray.exceptions.RayTaskError as exc:  # a file torn while packed: next time
                log.warning("could not sync host %s's folders this time: %s", host.command.host, exc)
                continue
            if archive and host.command.workspace is not None:
                lay_files(archive, host.command.workspace)

    def _pump_lines(self) -> None:
        synced_at = time.monotonic()
        while not self._ending.is_set():
            running = [h for h in self._hosts if h.code is None]
            if running:
                self._read(running)
            if time.monotonic() - synced_at >= SYNC_SECONDS:
                synced_at = time.monotonic()
                self._sync([h for h in running if h.code is None])
            self._ending.wait(POLL_SECONDS)

    # -- the end -----------------------------------------------------------------------------

    def _end_all(self, cause: ExitCause, failed: str | None) -> ExecutionOutcome:
        """Ends every host, all at once, brings back their lines and workspaces; the first
        caller's outcome stands."""
        with self._end_lock:
            if self._outcome is not None:
                return self._outcome
            self._ending.set()
            if self._pump.is_alive():
                self._pump.join()
            alive = [h for h in self._hosts if not h.lost]
            ends = [h.actor.terminate.remote() for h in alive]
            for host, ref in zip(alive, ends, strict=True):
                try:
                    code = ray.get(ref, timeout=CALL_TIMEOUT_S)
                except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                    self._lose(host)
                    continue
                host.code = code if host.code is None or code is not None else host.code
            alive = [h for h in self._hosts if not h.lost]
            self._read(alive)  # the lines printed while ending
            self._uploading = cause is ExitCause.EXITED and _uploads_on_nodes(self._hosts)
            for host in alive if not self._uploading else ():  # outputs stay on the nodes
                # A server's workspace is its model, an input only: nothing comes back.
                if host.command.workspace is not None and host.command.port_variable is None:
                    try:
                        archive = ray.get(host.actor.collect.remote(), timeout=CALL_TIMEOUT_S)
                    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                        self._lose(host)
                        continue
                    if archive:
                        unpack_folder(archive, host.command.workspace)
            if not self._uploading:
                self._release()
            lost = tuple(h.command.host for h in self._hosts if h.lost)
            self._outcome = ExecutionOutcome(
                cause, self.exit_codes(), failed, self._started_at, time.time(), lost
            )
            return self._outcome

    def _release(self) -> None:
        _dispose(self._hosts, self._group)
        self._on_end()
        for host in self._hosts:
            host.log.close()

    def release(self) -> None:
        with self._end_lock:
            if self._uploading:
                self._uploading = False
                self._release()

    def upload(self) -> list[dict[str, Any]] | None:
        """The first host uploads NodeData.uploads from its node, every other host's folders
        sent to it node to node through Ray's object store (never through this process);
        with NodeData.merge_hosts off, every host uploads its own folders from its node."""
        with self._end_lock:
            if not self._uploading:
                return None
            self._uploading = False
            try:
                leader, others = self._hosts[0], self._hosts[1:]
                data = leader.command.node_data
                if data is not None and not data.merge_hosts:
                    uploading = [h for h in self._hosts if h.command.node_data is not None]
                    results = ray.get([h.actor.upload.remote() for h in uploading])
                else:
                    uploading = [leader]
                    parts = [h.actor.pack_outputs.remote() for h in others]
                    results = [ray.get(leader.actor.upload.remote(*parts))]
                self._read(uploading)  # their upload lines
            except ray.exceptions.RayError as exc:
                raise error_for_code("InternalError", f"the upload from the Ray nodes failed: {exc}") from exc
            finally:
                self._release()
        for result in results:
            if "error" in result:
                code, message = result["error"]
                raise error_for_code(code, message)
        return [done for result in results for done in result["uploaded"]]


def _uploads_on_nodes(hosts: Sequence[_Host]) -> bool:
    """Whether every host ended 0 and the hosts' nodes upload the outputs themselves."""
    return all(h.code == 0 and not h.lost for h in hosts) and any(
        h.command.node_data is not None and h.command.node_data.uploads for h in hosts
    )


def _no_room(count: int, seconds: float) -> OSError:
    return OSError(
        f"CapacityError: the Ray cluster had no room for {count} host(s) within {seconds:g} s"
    )


def _dispose(hosts: Sequence[_Host], group: PlacementGroup | None) -> None:
    """Removes the actors' scratch folders, the actors and the placement group."""
    cleans = []
    for host in hosts:
        if not host.lost:
            cleans.append(host.actor.clean.remote())
    try:
        ray.get(cleans, timeout=CALL_TIMEOUT_S)
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
        log.warning("a Ray host's scratch folder could not be removed")
    for host in hosts:
        ray.kill(host.actor, no_restart=True)
    if group is not None:
        remove_placement_group(group)


class RayExecutor(Executor):
    name = "ray"
    moves_data_on_nodes = True

    def __init__(
        self,
        address: str = "auto",
        *,
        resource_scale: float = 1.0,
        placement_timeout: float = 600.0,
    ) -> None:
        if resource_scale <= 0:
            raise ValueError(f"resource_scale must be above 0, got {resource_scale}")
        self.address = address
        self.resource_scale = resource_scale
        self.placement_timeout = placement_timeout
        self._local = LocalProcessExecutor()
        self._spread = _Spread()

    @classmethod
    def from_url(cls, url: str) -> RayExecutor:
        """``ray``, ``ray://auto`` or ``ray://HOST:PORT``, with optional query parameters."""
        if url == "ray":
            return cls()
        parsed = urlparse(url)
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        unknown = set(options) - {"resource_scale", "placement_timeout"}
        if unknown:
            raise ValueError(
                f"unknown Ray executor option(s) {sorted(unknown)} in {url!r}: use resource_scale, placement_timeout"
            )
        address = "auto" if parsed.netloc in ("", "auto") else f"ray://{parsed.netloc}"
        try:
            return cls(
                address,
                resource_scale=float(options.get("resource_scale", 1.0)),
                placement_timeout=float(options.get("placement_timeout", 600.0)),
            )
        except ValueError as exc:
            raise ValueError(f"invalid Ray executor URL {url!r}: {exc}") from exc

    def connect(self) -> None:
        """Joins the cluster once per process (a process that already joined one keeps it)."""
        with _connecting:
            if not ray.is_initialized():
                ray.init(
                    address=self.address,
                    namespace=NAMESPACE,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                )

    def resources(self, instance_type: str | None) -> InstanceResources:
        return instance_resources(instance_type).scaled(self.resource_scale)

    def _bundle(self, command: HostCommand) -> dict[str, float]:
        wanted = self.resources(command.instance_type)
        bundle = {"CPU": wanted.vcpus, "memory": float(wanted.memory_bytes)}
        if wanted.gpus:
            bundle["GPU"] = float(wanted.gpus)
        return bundle

    @staticmethod
    def _fitting_nodes(bundle: Mapping[str, float]) -> list[str]:
        """The ids of the live nodes large enough to hold one host of `bundle`."""
        return [
            node["NodeID"]
            for node in ray.nodes()
            if node.get("Alive")
            and all(node["Resources"].get(k, 0.0) >= v for k, v in bundle.items())
        ]

    def _check_fits(self, command: HostCommand, bundle: Mapping[str, float]) -> None:
        """OSError when no node of the cluster could ever hold one host (a wait would never end)."""
        if self._fitting_nodes(bundle):
            return
        kind = command.instance_type or "the default instance type"
        raise OSError(
            f"no node of the Ray cluster has the resources of one {kind} "
            f"({', '.join(f'{k}={v:g}' for k, v in bundle.items())} with resource_scale {self.resource_scale:g}); "
            "add larger nodes or lower resource_scale in the executor URL"
        )

    def start(
        self,
        commands: Sequence[HostCommand],
        *,
        on_line: LineListener | None = None,
        grace_seconds: float = 10.0,
    ) -> Execution:
        if not commands:
            raise ValueError("an execution needs at least one host command")
        if any(command.workspace is None for command in commands):
            return self._local.start(commands, on_line=on_line, grace_seconds=grace_seconds)
        self.connect()
        marker = uuid.uuid4().hex
        bundles = [self._bundle(command) for command in commands]
        for command, bundle in zip(commands, bundles, strict=True):
            self._check_fits(command, bundle)
        # One host needs no group: its actor's own reservation places it, a step less.
        group = None if len(commands) == 1 else self._reserve(bundles, marker)
        spread = commands[0].spread if group is None else None
        strategies: list[Any] = [
            PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index)
            if group is not None
            else "DEFAULT"
            for index in range(len(commands))
        ]
        if spread is not None:
            node = self._spread.choose(spread, marker, self._fitting_nodes(bundles[0]))
            # Soft, spilling elsewhere when that node is full; Ray's own SPREAD when every
            # node already holds one of the key's hosts.
            strategies[0] = (
                NodeAffinitySchedulingStrategy(node, soft=True, _spill_on_unavailable=True)
                if node is not None
                else "SPREAD"
            )
        hosts = [
            _Host(
                command,
                _RemoteHost.options(
                    name=_actor_name(marker, command.host),
                    namespace=NAMESPACE,
                    # Every host outlives a crashed API server, whose successor ends it through
                    # the token; an endpoint's instances meanwhile go on serving the other servers.
                    lifetime="detached",
                    max_concurrency=4,
                    num_cpus=bundle["CPU"],
                    memory=bundle["memory"],
                    num_gpus=bundle.get("GPU", 0),
                    scheduling_strategy=strategy,
                ).remote(command.host),
                LogWriter(command.log_file),
            )
            for command, bundle, strategy in zip(commands, bundles, strategies, strict=True)
        ]
        try:
            nodes = ray.get([h.actor.node.remote() for h in hosts], timeout=self.placement_timeout)
            for host, node in zip(hosts, nodes, strict=True):
                host.node = node
            if spread is not None:
                self._spread.placed(spread, marker, nodes[0]["node_id"])
            leader = nodes[0]["address"]
            refs = []
            for host in hosts:
                command = host.command
                env = dict(command.env)
                for variable in RENDEZVOUS_ADDRESS_VARIABLES:
                    if variable in env:
                        env[variable] = leader
                archive = pack_folder(command.workspace) if command.workspace is not None else None
                workspace = str(command.workspace) if command.workspace is not None else None
                refs.append(
                    host.actor.start.remote(
                        list(command.argv),
                        str(command.cwd),
                        env,
                        grace_seconds,
                        workspace,
                        archive,
                        command.port_variable,
                        command.node_data,
                    )
                )
            for host, ref in zip(hosts, refs, strict=True):
                # A node staging the inputs takes as long as they take (each transfer bounded by
                # the store's retries).
                staging = host.command.node_data is not None
                host.port = ray.get(ref, timeout=None if staging else CALL_TIMEOUT_S)
                if host.port is not None:
                    host.log.write(
                        f"sagebox: {host.command.host} listens on {host.node['address']}:{host.port} "
                        f"on Ray node {host.node['node_id']}"
                    )
        except BaseException as exc:
            if spread is not None:
                self._spread.release(spread, marker)
            self._abandon(hosts, group)
            if isinstance(exc, ray.exceptions.GetTimeoutError):
                raise _no_room(len(commands), self.placement_timeout) from exc
            if isinstance(exc, ray.exceptions.RayTaskError):
                raise OSError(str(getattr(exc, "cause", None) or exc)) from None
            if isinstance(exc, ray.exceptions.RayError):
                raise OSError(f"the Ray cluster could not start the job's hosts: {exc}") from exc
            raise
        on_end = (lambda: self._spread.release(spread, marker)) if spread is not None else (lambda: None)
        execution = RayExecution(hosts, group, marker, on_line, on_end, self._spread.lost)
        execution._pump.start()
        return execution

    def _reserve(self, bundles: list[dict[str, float]], marker: str) -> PlacementGroup:
        """The hosts' bundles, SPREAD over nodes (soft: hosts share a node when there are
        fewer nodes than hosts); OSError when the cluster has no room in time."""
        group = placement_group(
            bundles, strategy="SPREAD", name=f"sagebox-{marker}", lifetime="detached"
        )
        try:
            ray.get(group.ready(), timeout=self.placement_timeout)
        except ray.exceptions.GetTimeoutError as exc:
            remove_placement_group(group)
            raise _no_room(len(bundles), self.placement_timeout) from exc
        return group

    def _abandon(self, hosts: list[_Host], group: PlacementGroup | None) -> None:
        """Ends what a failed start left: every started process, its actor, the group."""
        ends = [h.actor.terminate.remote() for h in hosts]
        try:
            ray.get(ends, timeout=CALL_TIMEOUT_S)
        except ray.exceptions.RayError:
            log.warning("a Ray host could not be ended cleanly after a failed start")
        _dispose(hosts, group)
        for host in hosts:
            host.log.close()

    def end_leftovers(self, token: Mapping[str, Any]) -> None:
        if token.get("executor") == LocalProcessExecutor.name:
            self._local.end_leftovers(token)
            return
        marker = token.get("marker")
        if token.get("executor") != self.name or not isinstance(marker, str):
            return
        self.connect()
        for host in token.get("hosts") or []:
            try:
                actor = ray.get_actor(_actor_name(marker, str(host)), namespace=NAMESPACE)
            except ValueError:
                continue  # gone already, or never this execution's
            try:
                ray.get(actor.kill.remote(), timeout=CALL_TIMEOUT_S)
                ray.get(actor.clean.remote(), timeout=CALL_TIMEOUT_S)
            except ray.exceptions.RayError:
                log.warning("host %s of a previous server's execution did not answer", host)
            ray.kill(actor, no_restart=True)
        with contextlib.suppress(ValueError):
            remove_placement_group(ray.util.get_placement_group(f"sagebox-{marker}"))
