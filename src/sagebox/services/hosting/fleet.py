"""The processes behind an endpoint: variants, their instances, routing and health.

An instance is a chain of model server processes, one per container of the model
(one for a single-container model, 2 to 15 for a serial inference pipeline). A
variant holds its instances and answers which healthy one takes the next request.
On a cluster executor (Ray) each server runs on a node, reserving the variant's instance
type, and a variant's instances are spread over different nodes.
"""

from __future__ import annotations

import itertools
import logging
import random
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagebox.objects import ObjectStore, parse_s3_uri
from sagebox.objects.archives import unpack_archive
from sagebox.runtime.executor import Executor
from sagebox.runtime.model_server import ModelServerProcess, ModelServerStartError

log = logging.getLogger(__name__)

# Signals that end a model server from outside (an operator, the OOM killer, a shutdown).
EXTERNAL_SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class FleetStartError(Exception):
    """A variant's instances could not start; the message becomes a FailureReason."""


@dataclass(frozen=True)
class ContainerPlan:
    """One container of a model as it will run: handler, unpacked model folder, environment,
    and the folder its instances log to (outside the deployment's, so logs outlive it)."""

    handler: str
    image: str
    base_dir: Path
    environment: dict[str, str]
    log_dir: Path


@dataclass
class Instance:
    id: str
    servers: list[ModelServerProcess]
    healthy: bool = False
    in_flight: int = 0
    last_used: float = field(default_factory=time.time)

    @property
    def nodes(self) -> list[str]:
        """The cluster nodes its servers run on (empty on one machine)."""
        return [s.placement.node for s in self.servers if s.placement is not None]

    def alive(self) -> bool:
        return all(s.alive() for s in self.servers)

    def ping(self) -> bool:
        return all(s.ping() for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def killed_from_outside(self) -> bool | None:
        """Whether a server of this instance was ended by a signal someone sent it (SIGKILL,
        SIGTERM, SIGINT: a machine or an operator, not a request), False if one ended by
        itself (an exit, a crash), None while all still run."""
        codes = [server.exit_code() for server in self.servers]
        ended = [code for code in codes if code is not None]
        if not ended:
            return None
        return all(-code in EXTERNAL_SIGNALS for code in ended)


def prepare_model(objects: ObjectStore, model_data_url: str, model_dir: Path) -> None:
    """Unpacks model.tar.gz (or copies an uncompressed prefix) into `model_dir`."""
    model_dir.mkdir(parents=True, exist_ok=True)
    bucket, key = parse_s3_uri(model_data_url)
    if key.endswith(".tar.gz") or key.endswith(".tgz"):
        with tempfile.TemporaryDirectory(prefix="sagebox-model-") as scratch:
            archive = Path(scratch) / "model.tar.gz"
            objects.download_file(model_data_url, archive)
            unpack_archive(archive, model_dir)
        return
    for info in objects.iter_objects(model_data_url):
        relative = info.key[len(key) :].lstrip("/") or Path(info.key).name
        objects.download_file(f"s3://{bucket}/{info.key}", model_dir / relative)


class VariantFleet:
    """A production (or shadow) variant: its instances, weight and desired size."""

    def __init__(
        self,
        name: str,
        containers: list[ContainerPlan],
        *,
        executor: Executor,
        weight: float,
        desired_count: int,
        serverless: dict[str, Any] | None = None,
        instance_type: str | None = None,
        outlive_server: bool = False,
    ) -> None:
        self.name = name
        self.outlive_server = outlive_server
        self.instance_type = instance_type
        # The instances of this variant go to different nodes of a cluster.
        self.spread_key = f"{name}-{uuid.uuid4().hex[:8]}"
        self.containers = containers
        self._executor = executor
        self.weight = weight
        self.desired_count = desired_count
        self.serverless = serverless
        self.instances: list[Instance] = []
        self._lock = threading.Lock()
        self._turn = itertools.count()
        # Called after an instance joined or left (the endpoint records where they listen).
        self.on_change: Callable[[], None] = lambda: None

    # -- instances -------------------------------------------------------------------

    def launch_instance(self) -> Instance:
        """Starts one instance and waits until every container answers /ping."""
        instance_id = uuid.uuid4().hex[:8]
        servers = [
            ModelServerProcess(
                plan.handler,
                executor=self._executor,
                base_dir=plan.base_dir,
                log_file=plan.log_dir / f"{self.name}-{instance_id}.jsonl",
                environment=plan.environment,
                spread=f"{self.spread_key}/{index}",
                instance_type=self.instance_type,
                outlive_server=self.outlive_server,
            )
            for index, plan in enumerate(self.containers)
        ]
        instance = Instance(instance_id, servers)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
        except ModelServerStartError as exc:
            instance.stop()
            raise FleetStartError(f"Variant {self.name}: {exc}") from exc
        instance.healthy = True
        with self._lock:
            self.instances.append(instance)
        self.on_change()
        if instance.nodes:
            log.info(
                "instance %s of variant %s runs on node(s) %s",
                instance_id,
                self.name,
                ", ".join(instance.nodes),
            )
        return instance

    def scale_to(self, count: int) -> None:
        """Starts or stops instances until `count` run; starts happen in parallel."""
        with self._lock:
            surplus = self.instances[count:]
            del self.instances[count:]
            missing = count - len(self.instances)
        if surplus:
            self.on_change()
        for instance in surplus:
            drain_and_stop(instance)
        if missing > 0:
            with ThreadPoolExecutor(max_workers=min(missing, 8)) as pool:
                for future in [pool.submit(self.launch_instance) for _ in range(missing)]:
                    future.result()

    def remove(self, instance: Instance) -> bool:
        """Takes `instance` out of the fleet (it keeps running); False if it was not in it."""
        with self._lock:
            if instance not in self.instances:
                return False
            self.instances.remove(instance)
        self.on_change()
        return True

    def replace(self, instance: Instance) -> None:
        """Swaps a dead instance for a fresh one (the health checker calls this). The old
        one is ended while the new one starts: on a cluster, ending an instance whose node
        just died may wait for the cluster to declare it lost."""
        self.remove(instance)
        ending = threading.Thread(target=instance.stop, name=f"stop-{instance.id}", daemon=True)
        ending.start()
        try:
            self.launch_instance()
        finally:
            ending.join()

    def set_instances(self, instances: list[Instance]) -> None:
        """Swaps the whole list (a route to another server's instances, re-read)."""
        with self._lock:
            self.instances = instances

    def healthy_instances(self) -> list[Instance]:
        with self._lock:
            return [i for i in self.instances if i.healthy]

    def pick(self) -> Instance | None:
        """The next healthy instance, round robin."""
        healthy = self.healthy_instances()
        if not healthy:
            return None
        return healthy[next(self._turn) % len(healthy)]

    def stop(self) -> None:
        with self._lock:
            instances, self.instances = self.instances, []
        if instances:
            self.on_change()
        for instance in instances:
            drain_and_stop(instance)


def drain_and_stop(instance: Instance, timeout: float = 60.0) -> None:
    """Takes an instance out of rotation, lets in-flight requests finish, stops it."""
    instance.healthy = False
    waited = 0.0
    while instance.in_flight > 0 and waited < timeout:
        threading.Event().wait(0.02)
        waited += 0.02
    instance.stop()


class Deployment:
    """What an endpoint serves: its production and shadow variants, from one config."""

    def __init__(
        self, config_name: str, folder: Path, config: dict[str, Any] | None = None
    ) -> None:
        self.config_name = config_name
        self.config = config or {}
        self.folder = folder
        self.variants: dict[str, VariantFleet] = {}
        self.shadows: dict[str, VariantFleet] = {}
        # Set once it no longer takes traffic (replaced or deleted): its instances leave the record.
        self.retired = False

    @property
    def id(self) -> str:
        """This deployment's name among the endpoint's (its folder's)."""
        return self.folder.name

    def all_fleets(self) -> list[VariantFleet]:
        return [*self.variants.values(), *self.shadows.values()]

    def on_change(self, listener: Callable[[], None]) -> None:
        """Calls `listener` whenever an instance of any variant starts or ends."""
        for fleet in self.all_fleets():
            fleet.on_change = listener

    def start(self, launch_serverless: Callable[[VariantFleet], bool] = lambda _: False) -> None:
        """Starts every instance of every variant in parallel; FleetStartError on any failure."""
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                futures = [
                    pool.submit(fleet.scale_to, fleet.desired_count)
                    for fleet in self.all_fleets()
                    if fleet.serverless is None or launch_serverless(fleet)
                ]
                for future in futures:
                    future.result()
        except FleetStartError:
            self.stop()
            raise

    def choose(self, target_variant: str | None) -> VariantFleet | None:
        """The variant for one request: the named one, else weighted at random."""
        if target_variant is not None:
            return self.variants.get(target_variant)
        candidates = [v for v in self.variants.values() if v.weight > 0]
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        return random.choices(candidates, weights=[v.weight for v in candidates])[0]

    def stop(self) -> None:
        for fleet in self.all_fleets():
            fleet.stop()

    def remove_files(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
