"""Where an endpoint's instances listen, kept in its record, and routes to them from any server.

The server holding an endpoint's lease runs its fleet (endpoints.py); every time an
instance of one of its deployments starts or ends it writes, in the endpoint's record
(`_sagebox.instances`, one transaction), each deployment's instances: per variant, each
instance's model servers with their URL (a Ray node's address and port, or this
machine's loopback), node and execution token. `_sagebox.serving` names the deployment
that takes the traffic. So:

- another server sharing the store routes InvokeEndpoint to the serving deployment's
  instances (`RouteTable`): a `Deployment` of the same variants, weights and
  configuration whose instances are `RecordedServer`s, used by the invocation path as
  the owner's own deployment is (round robin, retry on another instance);
- a server taking over a dead owner's endpoint finds every instance that owner left
  (their tokens), keeps routing to them while it starts its own fleet, and then ends
  them (`Executor.end_leftovers`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sagebox.services.hosting.fleet import Deployment, Instance, VariantFleet

log = logging.getLogger(__name__)

GROUPS = ("ProductionVariants", "ShadowProductionVariants")


def instance_entries(deployment: Deployment) -> dict[str, Any]:
    """The record's entry for one deployment: its instances, variant by variant."""
    entry: dict[str, Any] = {}
    for group, fleets in zip(GROUPS, (deployment.variants, deployment.shadows), strict=True):
        for name, fleet in fleets.items():
            entry.setdefault(group, {})[name] = [
                {
                    "id": instance.id,
                    "servers": [
                        {
                            "url": server.url,
                            "node": server.placement.node if server.placement is not None else None,
                            "token": server.token,
                        }
                        for server in instance.servers
                    ],
                }
                for instance in list(fleet.instances)
            ]
    return entry


def recorded_tokens(
    state: dict[str, Any], *, except_deployment: str | None = None
) -> list[dict[str, Any]]:
    """The execution tokens of every instance recorded in an endpoint's `_sagebox` state."""
    tokens = []
    for deployment_id, entry in (state.get("instances") or {}).items():
        if deployment_id == except_deployment:
            continue
        for group in GROUPS:
            for instances in (entry.get(group) or {}).values():
                for instance in instances:
                    tokens.extend(s["token"] for s in instance["servers"] if s.get("token"))
    return tokens


class RecordedServer:
    """A model server another server started, known by its address only. Its owner checks
    its health and replaces it; here it is only called."""

    placement = None
    token = None

    def __init__(self, url: str) -> None:
        self.url = url

    def alive(self) -> bool:
        return True

    def ping(self) -> bool:
        return True

    def exit_code(self) -> int | None:
        return None  # unknown here: a dropped request is retried once

    def stop(self) -> None:
        """Its owner ends it."""


def _instances(entries: list[dict[str, Any]]) -> list[Instance]:
    return [
        Instance(e["id"], [RecordedServer(s["url"]) for s in e["servers"]], healthy=True)  # type: ignore[misc]
        for e in entries
    ]


def _signature(state: dict[str, Any]) -> str:
    """What a route is built from; a route is rebuilt only when this changed."""
    serving = state.get("serving")
    return json.dumps(
        [
            serving,
            (state.get("instances") or {}).get(serving),
            state.get("capacities"),
            state["config"],
        ],
        sort_keys=True,
        default=str,
    )


def routed_deployment(state: dict[str, Any]) -> Deployment | None:
    """A deployment whose instances are the recorded ones of the serving deployment (None
    when none is recorded)."""
    serving = state.get("serving")
    entry = (state.get("instances") or {}).get(serving)
    if not serving or entry is None:
        return None
    config = state["config"]
    capacities = state.get("capacities") or {}
    deployment = Deployment(config["EndpointConfigName"], Path(serving), config)
    for group, target in zip(GROUPS, (deployment.variants, deployment.shadows), strict=True):
        for variant in config.get(group) or []:
            name = variant["VariantName"]
            override = capacities.get(name, {})
            # Serverless variants start instances on demand at their owner only; here their
            # recorded instances are called like any other's.
            fleet = VariantFleet(
                name,
                [],
                executor=None,  # type: ignore[arg-type]
                weight=float(override.get("weight", variant.get("InitialVariantWeight", 1.0))),
                desired_count=int(override.get("count", variant.get("InitialInstanceCount") or 0)),
                instance_type=variant.get("InstanceType"),
            )
            fleet.instances = _instances((entry.get(group) or {}).get(name) or [])
            target[name] = fleet
    return deployment


class RouteTable:
    """The endpoints this server routes to without driving them, from their records.

    Read once at an endpoint's first invocation here, again every lease scan (`refresh`),
    and at once when a recorded instance could not be reached (`stale`). A route whose
    record changed only in its instances keeps its fleet objects and swaps their instance
    lists, so requests waiting for an instance of a fleet find the new ones.
    """

    def __init__(self, read: Callable[[str], tuple[str, dict[str, Any]] | None]) -> None:
        self._read = read  # name -> (status, `_sagebox` state), None when there is no such endpoint
        self._routes: dict[str, tuple[str, Deployment]] = {}
        self._lock = threading.Lock()
        self._refreshing: set[str] = set()

    def get(self, name: str) -> Deployment | None:
        route = self._routes.get(name)
        return route[1] if route is not None else None

    def names(self) -> Iterator[str]:
        return iter(list(self._routes))

    def drop(self, name: str) -> None:
        with self._lock:
            self._routes.pop(name, None)

    def load(self, name: str) -> tuple[str, Deployment | None] | None:
        """Reads the endpoint's record and (re)builds its route: (status, deployment or None
        when no instance is recorded); None when the endpoint does not exist."""
        found = self._read(name)
        if found is None:
            self.drop(name)
            return None
        status, state = found
        if status not in ("InService", "Updating"):
            self.drop(name)
            return status, None
        signature = _signature(state)
        with self._lock:
            current = self._routes.get(name)
            if current is not None and current[0] == signature and not _unhealthy(current[1]):
                return status, current[1]
            # Built anew when the record changed, or when an instance could not be reached (a
            # moment's trouble, or gone: its owner replaces it; tried again meanwhile).
            fresh = routed_deployment(state)
            if fresh is None:
                self._routes.pop(name, None)
                return status, None
            if current is not None and _same_shape(current[1], fresh):
                _swap_instances(current[1], fresh)
                fresh = current[1]
            self._routes[name] = (signature, fresh)
        return status, fresh

    def refresh(self) -> None:
        for name in self.names():
            try:
                self.load(name)
            except Exception:
                log.exception("could not re-read the instances of endpoint %s", name)

    def stale(self, name: str) -> None:
        """An instance of a routed endpoint did not answer: re-read its record now, once."""
        with self._lock:
            if name not in self._routes or name in self._refreshing:
                return
            self._refreshing.add(name)

        def reread() -> None:
            try:
                self.load(name)
            except Exception:
                log.exception("could not re-read the instances of endpoint %s", name)
            finally:
                with self._lock:
                    self._refreshing.discard(name)

        threading.Thread(target=reread, name=f"route-{name}", daemon=True).start()


def _unhealthy(deployment: Deployment) -> bool:
    return any(not i.healthy for fleet in deployment.all_fleets() for i in fleet.instances)


def _same_shape(old: Deployment, new: Deployment) -> bool:
    return (
        old.config_name == new.config_name
        and old.variants.keys() == new.variants.keys()
        and old.shadows.keys() == new.shadows.keys()
    )


def _swap_instances(old: Deployment, new: Deployment) -> None:
    for name, fleet in [*new.variants.items(), *new.shadows.items()]:
        target = old.variants.get(name) or old.shadows[name]
        target.weight, target.desired_count = fleet.weight, fleet.desired_count
        target.set_instances(fleet.instances)
    old.folder = new.folder
