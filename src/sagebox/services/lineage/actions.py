"""Actions: CreateAction / DescribeAction / ListActions / UpdateAction / DeleteAction.

An action is a step of a workflow (a model deployment, an approval). Its Status is one of
SageMaker's ActionStatus values, ``Unknown`` when none was given, and is also the stored
record's status.
"""

from __future__ import annotations

from typing import Any

from sagebox.config import Settings
from sagebox.services.families import ACTION
from sagebox.services.lineage.entities import LineageEntityService
from sagebox.store import AlreadyExists, MetadataStore, ResourceRecord

MANUAL_ACTIONS_LIMIT = 3000
DEFAULT_STATUS = "Unknown"


class ActionService(LineageEntityService):
    family = ACTION
    type_member = "ActionType"
    manual_limit = MANUAL_ACTIONS_LIMIT
    updatable = ("Description", "Status")

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ActionName"]
        try:
            record = self._insert_action(name, request, automatic=False, tags=request.get("Tags"))
        except AlreadyExists as exc:
            raise self.already_exists(self.arn_of(name)) from exc
        return {"ActionArn": record.arn}

    def ensure(self, name: str, request: dict[str, Any]) -> ResourceRecord:
        """The action `name`, recorded by SageMaker itself (from a CreateAction-shaped request)
        unless it exists."""
        return self.find_or_insert(name, lambda: self._insert_action(name, request, automatic=True))

    def insert_new(self, name: str, request: dict[str, Any]) -> ResourceRecord:
        """A new action SageMaker records itself; AlreadyExists when `name` is taken."""
        return self._insert_action(name, request, automatic=True)

    def _insert_action(
        self,
        name: str,
        request: dict[str, Any],
        *,
        automatic: bool,
        tags: list[dict[str, str]] | None = None,
    ) -> ResourceRecord:
        status = request.get("Status") or DEFAULT_STATUS
        document = {
            "ActionName": name,
            "Source": dict(request["Source"]),
            "ActionType": request["ActionType"],
            "Description": request.get("Description"),
            "Status": status,
            "Properties": request.get("Properties") or {},
            "MetadataProperties": request.get("MetadataProperties"),
        }
        return self.insert(name, document, automatic=automatic, status=status, tags=tags)

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.update_record(request["ActionName"], request)
        return {"ActionArn": record.arn}

    def set_status(self, name: str, status: str, properties: dict[str, str] | None = None) -> None:
        """Moves an action SageMaker recorded to `status` (an approval that changed)."""

        def moving(record: ResourceRecord) -> None:
            record.status = status
            record.document["Status"] = status
            record.document.setdefault("Properties", {}).update(properties or {})

        self.modify(self.get(name), moving)

    def delete(self, name: str) -> dict[str, Any]:
        return self.delete_record(self.get(name))
