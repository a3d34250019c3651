"""Resource events: what happened to a resource, for the services that follow others.

SageMaker records some things by itself as resources change: a trial component for
every training, processing and transform job (Experiments), lineage artifacts and
associations from data sets to jobs to models to endpoints (ML Lineage Tracking). The
services that own those records subscribe here; the services whose resources change
publish, without knowing who listens.

Events are delivered synchronously, in the publishing thread, after the change is
committed; a subscriber that fails is logged and never fails the change itself.
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


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[frozenset[str] | None, Subscriber]] = []
        self._lock = threading.Lock()

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
