"""What artifacts, actions and contexts share: a lineage entity kept as its Describe document.

Each is created by its Create operation or by SageMaker itself (automatic lineage, see
`recorder.py`), described by name or ARN, listed with the SourceUri / type / creation-time
filters of its List operation, updated (Properties replace the current ones, then
PropertiesToRemove are removed) and deleted together with every association that touches
it, so no edge is left pointing at nothing. Manually created entities count against
SageMaker's limits (actions 3000, artifacts 6000, contexts 500); those SageMaker records
itself do not.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from sagebox.config import Settings
from sagebox.services.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from sagebox.services.events import CREATED, DELETED, UPDATED
from sagebox.services.job_states import public, to_datetime
from sagebox.services.resources import RecordService
from sagebox.store import (
    AllOf,
    AlreadyExists,
    ColumnSort,
    Condition,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    ResourceRecord,
)
from sagebox.store.query import Expression

DEFAULT_PAGE_SIZE = 10
TIME_DIGITS = 3
"""Lineage times are kept to the millisecond, as SageMaker answers them, so that a time a
client read back (CreationTime) selects that very entity in a CreatedAfter/Before filter."""
AUTOMATIC = "automatic"
"""The ``_sagebox`` flag of an entity or association SageMaker recorded by itself."""


def now() -> float:
    return round(time.time(), TIME_DIGITS)


def epoch(moment: datetime) -> float:
    """A request's timestamp as the stored times are kept (seconds, to the millisecond)."""
    return round(moment.timestamp(), TIME_DIGITS)


def time_filters(request: dict[str, Any]) -> list[Expression]:
    """A List request's CreatedAfter / CreatedBefore (each inclusive) as document conditions."""
    conditions: list[Expression] = []
    if request.get("CreatedAfter") is not None:
        conditions.append(
            Condition(("CreationTime",), "GreaterThanOrEqualTo", epoch(request["CreatedAfter"]))
        )
    if request.get("CreatedBefore") is not None:
        conditions.append(
            Condition(("CreationTime",), "LessThanOrEqualTo", epoch(request["CreatedBefore"]))
        )
    return conditions


class LineageEntityService(RecordService):
    """Create / Describe / List / Update / Delete of one kind of lineage entity."""

    type_member: ClassVar[str]
    """The Describe member holding the entity's type (ArtifactType, ActionType, ContextType)."""
    manual_limit: ClassVar[int]
    """How many entities of this kind an account may create by hand."""
    updatable: ClassVar[tuple[str, ...]] = ("Description",)
    """Describe members an Update request may set besides Properties."""

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)

    # -- identity ------------------------------------------------------------------

    @property
    def noun(self) -> str:
        return self.family.kind

    def not_found(self, name_or_arn: str) -> ResourceNotFound:
        arn = name_or_arn if name_or_arn.startswith("arn:") else self.arn_of(name_or_arn)
        return ResourceNotFound(f"{self.noun} '{arn}' does not exist.")

    def get(self, name_or_arn: str) -> ResourceRecord:
        """The record named by its name or its ARN (Describe accepts either)."""
        if name_or_arn.startswith("arn:"):
            record = self._repo.get_by_arn(name_or_arn)
        else:
            record = self._repo.get(name_or_arn)
        if record is None:
            raise self.not_found(name_or_arn)
        return record

    def describe(self, name_or_arn: str) -> dict[str, Any]:
        return self.answer(self.get(name_or_arn).document)

    @staticmethod
    def answer(document: dict[str, Any]) -> dict[str, Any]:
        described = public(document)
        described.setdefault("Properties", {})
        return described

    # -- create ----------------------------------------------------------------------

    def insert(
        self,
        name: str,
        document: dict[str, Any],
        *,
        automatic: bool,
        status: str = "",
        tags: list[dict[str, str]] | None = None,
    ) -> ResourceRecord:
        """Stores a new entity (AlreadyExists from the store when its name or ARN is taken)."""
        if not automatic:
            self._check_limit()
        created = now()
        moment = to_datetime(created)
        arn = self.arn_of(name)
        stored = {
            self.family.arn_member: arn,
            **{k: copy.deepcopy(v) for k, v in document.items() if v is not None},
            "CreationTime": created,
            "LastModifiedTime": created,
        }
        stored.setdefault("Properties", {})
        if automatic:
            stored["_sagebox"] = {AUTOMATIC: True}
        record = ResourceRecord(self.family.kind, name, arn, status, moment, moment, stored)
        self._repo.create(record)
        if tags:
            self._store.tags.add(arn, tags)
        self.publish(CREATED, record)
        return record

    def already_exists(self, arn: str) -> ValidationError:
        return ValidationError(f"{self.noun} '{arn}' already exists.")

    def _check_limit(self) -> None:
        manual = Condition(("_sagebox", AUTOMATIC), "NotEquals", True)
        if self._repo.count(manual) >= self.manual_limit:
            raise ResourceLimitExceeded(
                f"The account already has the maximum of {self.manual_limit} "
                f"{self.noun.lower()}s created by hand; delete some to create more."
            )

    # -- list --------------------------------------------------------------------------

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        conditions: list[Expression] = []
        if request.get("SourceUri") is not None:
            conditions.append(Condition(("Source", "SourceUri"), "Equals", request["SourceUri"]))
        if request.get(self.type_member) is not None:
            conditions.append(Condition((self.type_member,), "Equals", request[self.type_member]))
        conditions += time_filters(request)
        sort = ColumnSort(
            request.get("SortBy") or self.family.default_sort_by,
            request.get("SortOrder") or self.family.default_sort_order,
        )
        try:
            records, token = self._repo.query(
                AllOf(conditions) if conditions else None,
                sort,
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        summaries = [
            {k: r.document[k] for k in self.family.summary_fields if k in r.document}
            for r in records
        ]
        return {self.family.list_member: summaries, "NextToken": token}

    # -- update and delete --------------------------------------------------------------

    def update_record(self, name_or_arn: str, request: dict[str, Any]) -> ResourceRecord:
        """Applies an Update request's members to the entity, in one locked transaction."""
        record = self.get(name_or_arn)
        return self.modify(record, lambda changed: self._apply_update(changed, request))

    def modify(
        self, record: ResourceRecord, change: Callable[[ResourceRecord], None]
    ) -> ResourceRecord:
        def changing(current: ResourceRecord) -> None:
            change(current)
            modified = now()
            current.document["LastModifiedTime"] = modified
            current.last_modified_time = to_datetime(modified)

        try:
            changed = self._repo.modify(record.name, changing)
        except NotFound as exc:
            raise self.not_found(record.arn) from exc
        self.publish(UPDATED, changed)
        return changed

    def _apply_update(self, record: ResourceRecord, request: dict[str, Any]) -> None:
        document = record.document
        for member in self.updatable:
            if request.get(member) is not None:
                document[member] = request[member]
        if request.get("Properties") is not None:
            document["Properties"] = dict(request["Properties"])
        for key in request.get("PropertiesToRemove") or []:
            document.setdefault("Properties", {}).pop(key, None)

    def delete_record(self, record: ResourceRecord) -> dict[str, Any]:
        """Removes the entity, its tags and every association to or from it."""
        associations = self._store.associations
        for edge in associations.touching(record.arn):
            with contextlib.suppress(NotFound):  # removed meanwhile by another request
                associations.delete(edge.document["SourceArn"], edge.document["DestinationArn"])
        try:
            self._repo.delete(record.name)
        except NotFound as exc:
            raise self.not_found(record.arn) from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {self.family.arn_member: record.arn}

    def find_or_insert(self, name: str, insert: Callable[[], ResourceRecord]) -> ResourceRecord:
        """The entity named `name`, made by `insert` unless it exists (SageMaker reuses entities)."""
        existing = self._repo.get(name)
        if existing is not None:
            return existing
        try:
            return insert()
        except AlreadyExists:
            found = self._repo.get(name)
            if found is None:
                raise
            return found
