"""Create / Describe / List / Delete for resources that are plain records (models, configs)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ValidationError
from sagebox.services.listing import list_resources
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord


class RecordService:
    """One aggregate kept as its Describe document; SageMaker's wording for its errors.

    `noun` is how SageMaker names the resource in messages ("model", "endpoint
    configuration"); `arn_type` is the ARN's resource type ("model", "endpoint-config").
    """

    kind = ""
    noun = ""
    arn_type = ""
    name_member = ""
    arn_member = ""
    summary_fields: Sequence[str] = ()

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self._settings = settings
        self._store = store
        self._repo = store.resources(self.kind)

    def arn_of(self, name: str) -> str:
        return self._settings.arn(f"{self.arn_type}/{name.lower()}")

    def _insert(self, name: str, document: dict[str, Any], status: str = "", tags: list[dict[str, str]] | None = None) -> ResourceRecord:
        now = time.time()
        moment = datetime.fromtimestamp(now, tz=UTC)
        arn = self.arn_of(name)
        document = {self.name_member: name, self.arn_member: arn, "CreationTime": now, **document}
        record = ResourceRecord(self.kind, name, arn, status, moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ValidationError(f'Cannot create already existing {self.noun} "{arn}".') from exc
        if tags:
            self._store.tags.add(arn, tags)
        return record

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError(f'Could not find {self.noun} "{self.arn_of(name)}".')
        return record

    def describe(self, name: str) -> dict[str, Any]:
        return {k: v for k, v in self.get(name).document.items() if not k.startswith("_")}

    def list_page(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        return list_resources(self._repo, request, summary_fields=self.summary_fields, default_sort_order="Descending")

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        try:
            self._repo.delete(name)
        except NotFound as exc:
            raise ValidationError(f'Could not find {self.noun} "{record.arn}".') from exc
        self._store.tags.delete_all(record.arn)
        return {}
