"""Resource events: what happened to a resource, for the services that follow others.

SageMaker records some things by itself as resources change: a trial component for
every training, processing and transform job (Experiments), lineage artifacts and
associations from data sets to jobs to models to endpoints (ML Lineage Tracking). The
services that own those records subscribe here; the services whose resources change
publish, without knowing who listens.

Events are delivered synchronously, in the publishing thread, after the change is
committed; a subscriber that fails is logged and never fails the change itself.

A follower that must see a request before it is accepted (Experiments refuses a job whose
ExperimentConfig names an experiment or trial that does not exist, as SageMaker does)
registers a check: checks run before the change, and the first that raises refuses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CREATED = "Created"
UPDATED = "Updated"
ENDED = "Ended"
DELETED = "Deleted"


@dataclass(frozen=True)
class ResourceEvent:
    kind: str
    """The family's kind (TrainingJob, Model, Endpoint, ...)."""
    name: str
    arn: str
    change: str
    """Created, Updated, Ended (a job reached a terminal status) or Deleted."""
    document: dict[str, Any]
    """The resource's Describe document as it is after the change (before, for Deleted)."""


Subscriber = Callable[[ResourceEvent], None]
Check = Callable[[str, dict[str, Any]], None]
"""Called with a family's kind and a Create request; raises a ServiceError to refuse it."""


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[frozenset[str] | None, Subscriber]] = []
        self._checks: list[tuple[frozenset[str], Check]] = []
        self._lock = threading.Lock()

    def check_requests(self, check: Check, kinds: set[str]) -> None:
        """Calls `check` with every Create request of `kinds` before it is accepted."""
        with self._lock:
            self._checks.append((frozenset(kinds), check))

    def vet(self, kind: str, request: dict[str, Any]) -> None:
        """Runs the checks registered for `kind`; their ServiceError refuses the request."""
        with self._lock:
            checks = [check for kinds, check in self._checks if kind in kinds]
        for check in checks:
            check(kind, request)

    def subscribe(self, subscriber: Subscriber, kinds: set[str] | None = None) -> None:
        """Calls `subscriber` with every event (of `kinds`, when given)."""
        with self._lock:
            self._subscribers.append((frozenset(kinds) if kinds is not None else None, subscriber))

    def publish(self, event: ResourceEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for kinds, subscriber in subscribers:
            if kinds is not None and event.kind not in kinds:
                continue
            try:
                subscriber(event)
            except Exception:
                log.exception("a subscriber failed on %s %s %s", event.change, event.kind, event.name)
