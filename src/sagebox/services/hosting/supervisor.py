"""Keeps endpoints healthy: pings every instance, replaces dead ones, idles serverless ones.

An instance whose process died leaves the rotation at once and is replaced by a fresh
one; one whose process lives but whose /ping fails is replaced after
``FAILED_PINGS_TO_REPLACE`` failures in a row, so a server slowed down by a burst of
traffic is not thrown away while it is answering. Serverless instances stop after
sitting idle. Captured data is flushed on the same beat, and so are the endpoints'
CloudWatch invocation metrics (every ``metrics_flush_seconds``).
"""

from __future__ import annotations

import logging
import threading
import time

from sagebox.services.hosting.endpoints import EndpointService
from sagebox.services.hosting.fleet import FleetStartError, Instance, VariantFleet, drain_and_stop
from sagebox.services.hosting.invocations import InvocationService
from sagebox.services.metrics.endpoint_metrics import MetricPublisher

log = logging.getLogger(__name__)

FAILED_PINGS_TO_REPLACE = 3


class EndpointSupervisor:
    def __init__(
        self,
        endpoints: EndpointService,
        invocations: InvocationService,
        *,
        interval_seconds: float = 1.0,
        serverless_idle_seconds: float = 60.0,
        capture_flush_seconds: float = 5.0,
        metrics: MetricPublisher | None = None,
        metrics_flush_seconds: float = 60.0,
    ) -> None:
        self._endpoints = endpoints
        self._invocations = invocations
        self._interval = interval_seconds
        self._idle = serverless_idle_seconds
        self._flush_every = capture_flush_seconds
        self._metrics = metrics
        self._metrics_every = metrics_flush_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="endpoint-supervisor", daemon=True)
        self._replacing: set[str] = set()
        self._failed_pings: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.flush_metrics()

    def flush_metrics(self) -> None:
        """Publishes the invocation metrics aggregated since the last flush."""
        if self._metrics is not None:
            self._invocations.metrics.flush(self._metrics)

    def _run(self) -> None:
        flushed = metrics_flushed = checked = time.time()
        while not self._stop.wait(min(self._interval, self._metrics_every)):
            if time.time() - metrics_flushed >= self._metrics_every:
                self.flush_metrics()
                metrics_flushed = time.time()
            if time.time() - checked < self._interval * 0.999:
                continue
            checked = time.time()
            for name, deployment in self._endpoints.deployments():
                for fleet in deployment.all_fleets():
                    self.check(name, fleet)
            if time.time() - flushed >= self._flush_every:
                self._invocations.capture.flush()
                flushed = time.time()

    def check(self, endpoint: str, fleet: VariantFleet) -> None:
        for instance in list(fleet.instances):
            if instance.id in self._replacing:
                continue
            if fleet.serverless is not None and instance.in_flight == 0 and time.time() - instance.last_used > self._idle:
                log.info("serverless instance %s of %s/%s idle; stopping it", instance.id, endpoint, fleet.name)
                if fleet.remove(instance):
                    drain_and_stop(instance)
                continue
            alive = instance.alive()
            if alive and instance.ping():
                instance.healthy = True
                self._failed_pings.pop(instance.id, None)
                continue
            if alive:
                failures = self._failed_pings.get(instance.id, 0) + 1
                self._failed_pings[instance.id] = failures
                if failures < FAILED_PINGS_TO_REPLACE:
                    log.info("instance %s of %s/%s missed a health check (%d in a row)", instance.id, endpoint, fleet.name, failures)
                    continue
            self._failed_pings.pop(instance.id, None)
            instance.healthy = False
            log.warning("instance %s of %s/%s failed its health check; replacing it", instance.id, endpoint, fleet.name)
            with self._lock:
                self._replacing.add(instance.id)
            threading.Thread(target=self._replace, args=(fleet, instance), daemon=True).start()

    def _replace(self, fleet: VariantFleet, instance: Instance) -> None:
        try:
            fleet.replace(instance)
        except FleetStartError as exc:
            log.error("could not replace instance %s of variant %s: %s", instance.id, fleet.name, exc)
        finally:
            with self._lock:
                self._replacing.discard(instance.id)
