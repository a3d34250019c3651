"""Create / Describe / List / Delete for resources that are plain records (models, configs).

A record family's service names its row of the family table; the table gives its kind,
ARN type, name and ARN members, SageMaker's noun for it and its List answer's shape.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from sagebox.config import Settings
from sagebox.services.errors import ValidationError
from sagebox.services.events import CREATED, DELETED, EventBus, ResourceEvent
from sagebox.services.families import Family
from sagebox.services.job_states import public, to_datetime
from sagebox.services.listing import list_resources
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord


class RecordService:
    """One aggregate kept as its Describe document, with SageMaker's wording for its errors."""

    family: ClassVar[Family]

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self._settings = settings
        self._store = store
        self._repo = store.resources(self.family.kind)
        # Where changes are published; the platform gives every service the shared bus.
        self.events = EventBus()

    def publish(self, change: str, record: ResourceRecord) -> None:
        self.events.publish(ResourceEvent(self.family.kind, record.name, record.arn, change, public(record.document)))

    def arn_of(self, name: str) -> str:
        return self.family.arn(self._settings, name)

    def _insert(self, name: str, document: dict[str, Any], status: str = "", tags: list[dict[str, str]] | None = None) -> ResourceRecord:
        now = time.time()
        moment = to_datetime(now)
        arn = self.arn_of(name)
        document = {self.family.name_member: name, self.family.arn_member: arn, "CreationTime": now, **document}
        record = ResourceRecord(self.family.kind, name, arn, status, moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ValidationError(f'Cannot create already existing {self.family.noun} "{arn}".') from exc
        if tags:
            self._store.tags.add(arn, tags)
        self.publish(CREATED, record)
        return record

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError(f'Could not find {self.family.noun} "{self.arn_of(name)}".')
        return record

    def describe(self, name: str) -> dict[str, Any]:
        return public(self.get(name).document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        return list_resources(self._repo, request, self.family)

    def count(self) -> int:
        """How many resources of this family exist (the console's overview)."""
        return self._repo.count()

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        try:
            self._repo.delete(name)
        except NotFound as exc:
            raise ValidationError(f'Could not find {self.family.noun} "{record.arn}".') from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {}

    def recover(self) -> None:
        """After a restart; plain records have nothing to pick up."""

    def shutdown(self) -> None:
        """Before the server stops; plain records hold nothing running."""
