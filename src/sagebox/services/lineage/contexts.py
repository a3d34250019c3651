"""Contexts: CreateContext / DescribeContext / ListContexts / UpdateContext / DeleteContext.

A context groups other entities: SageMaker makes one for every endpoint (ContextType
``Endpoint``, Source.SourceUri the endpoint's ARN, which the SDK looks it up by) and for
every model package group (``ModelGroup``).
"""

from __future__ import annotations

from typing import Any

from sagebox.config import Settings
from sagebox.services.families import CONTEXT
from sagebox.services.lineage.entities import LineageEntityService
from sagebox.store import AlreadyExists, MetadataStore, ResourceRecord

MANUAL_CONTEXTS_LIMIT = 500


class ContextService(LineageEntityService):
    family = CONTEXT
    type_member = "ContextType"
    manual_limit = MANUAL_CONTEXTS_LIMIT
    updatable = ("Description",)

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ContextName"]
        try:
            record = self._insert_context(name, request, automatic=False, tags=request.get("Tags"))
        except AlreadyExists as exc:
            raise self.already_exists(self.arn_of(name)) from exc
        return {"ContextArn": record.arn}

    def ensure(self, name: str, request: dict[str, Any]) -> ResourceRecord:
        """The context `name`, recorded by SageMaker itself (from a CreateContext-shaped
        request) unless it exists."""
        return self.find_or_insert(
            name, lambda: self._insert_context(name, request, automatic=True)
        )

    def insert_new(self, name: str, request: dict[str, Any]) -> ResourceRecord:
        """A new context SageMaker records itself; AlreadyExists when `name` is taken."""
        return self._insert_context(name, request, automatic=True)

    def _insert_context(
        self,
        name: str,
        request: dict[str, Any],
        *,
        automatic: bool,
        tags: list[dict[str, str]] | None = None,
    ) -> ResourceRecord:
        document = {
            "ContextName": name,
            "Source": dict(request["Source"]),
            "ContextType": request["ContextType"],
            "Description": request.get("Description"),
            "Properties": request.get("Properties") or {},
        }
        return self.insert(name, document, automatic=automatic, tags=tags)

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.update_record(request["ContextName"], request)
        return {"ContextArn": record.arn}

    def delete(self, name: str) -> dict[str, Any]:
        return self.delete_record(self.get(name))
