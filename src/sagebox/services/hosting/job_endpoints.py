"""Endpoints a processing job makes for itself, deleted when the job ends.

A Clarify job given a `model_name` creates a shadow endpoint and its configuration through
the API and deletes both when it finishes. When the job's process cannot do so (the
server stopped under it, the job was killed), the endpoint would outlive it. The job tags
what it creates with its own ARN (`SHADOW_OWNER_TAG`); when a processing job ends, for
whatever reason and also when a restarted server fails the job it found running, this
follower deletes every endpoint and endpoint configuration still carrying its ARN.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sagebox.analysis.clarify.endpoint import SHADOW_OWNER_TAG
from sagebox.services.errors import ServiceError
from sagebox.services.events import ENDED, EventBus, ResourceEvent
from sagebox.store import MetadataStore, TagCondition

if TYPE_CHECKING:
    from sagebox.services.hosting.endpoint_configs import EndpointConfigService
    from sagebox.services.hosting.endpoints import EndpointService

log = logging.getLogger(__name__)


class JobScopedEndpoints:
    def __init__(self, store: MetadataStore, endpoints: EndpointService, configs: EndpointConfigService) -> None:
        self._store = store
        self._endpoints = endpoints
        self._configs = configs

    def follow(self, events: EventBus) -> None:
        events.subscribe(self.on_event, kinds={"ProcessingJob"})

    def on_event(self, event: ResourceEvent) -> None:
        if event.change != ENDED:
            return
        owned = TagCondition(SHADOW_OWNER_TAG, "Equals", event.arn)
        for kind, service in (("Endpoint", self._endpoints), ("EndpointConfig", self._configs)):
            records, _ = self._store.resources(kind).query(owned, max_results=100)
            for record in records:
                try:
                    service.delete(record.name)
                    log.info("deleted %s %s, left behind by %s", kind, record.name, event.name)
                except ServiceError as exc:
                    log.warning("could not delete %s %s left by %s: %s", kind, record.name, event.name, exc.message)
