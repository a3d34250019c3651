"""What experiments, trials and trial components share: names, messages, lists.

SageMaker's experiment entities are plain records with case-insensitive names ("The name
must be unique in your account and is not case-sensitive"): a name is looked up by its
ARN, which holds it lowercased, so `MyRun` and `myrun` are one entity. Their List
operations filter on members of the stored documents (a trial's experiment, a trial
component's parents) and sort by name or creation time; all of them are document
queries (`store/query.py`), paged by the store's keyset tokens.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from sagebox.services.errors import ResourceNotFound, ValidationError
from sagebox.services.events import CREATED, DELETED, UPDATED
from sagebox.services.families import Family
from sagebox.services.job_states import to_datetime
from sagebox.services.resources import RecordService
from sagebox.store import (
    AllOf,
    AlreadyExists,
    ColumnSort,
    Condition,
    InvalidNextToken,
    NotFound,
    QueryError,
    ResourceRecord,
)
from sagebox.store.query import Expression

DEFAULT_PAGE_SIZE = 10
Summary = Callable[[dict[str, Any]], dict[str, Any]]


def epoch(value: datetime | float | int) -> float:
    """A request's timestamp as the epoch seconds documents keep."""
    return value.timestamp() if isinstance(value, datetime) else float(value)


class ExperimentEntityService(RecordService):
    """Create / Describe / List / Update / Delete of one experiment entity family: a plain
    record family (`RecordService`) with names that ignore case and SageMaker's
    experiment wording (ResourceNotFound, "... already exists.")."""

    family: ClassVar[Family]
    title: ClassVar[str]
    """How SageMaker's messages name the entity ("Experiment", "Trial", "TrialComponent")."""

    # -- names ---------------------------------------------------------------------------

    def not_found(self, name: str) -> ResourceNotFound:
        return missing(self.title, self.arn_of(name))

    def find(self, name_or_arn: str) -> ResourceRecord | None:
        """The entity named `name_or_arn` (any case) or with that ARN, if it exists."""
        if name_or_arn.startswith("arn:"):
            return self._repo.get_by_arn(name_or_arn.lower())
        return self._repo.get_by_arn(self.arn_of(name_or_arn))

    def get(self, name_or_arn: str) -> ResourceRecord:
        record = self.find(name_or_arn)
        if record is None:
            raise self.not_found(name_or_arn.rsplit("/", 1)[-1])
        return record

    # -- the standard verbs ------------------------------------------------------------

    def insert(self, name: str, members: dict[str, Any], tags: list[dict[str, str]] | None) -> ResourceRecord:
        """Stores a new entity: its name, ARN, display name and times, then `members`."""
        now = time.time()
        arn = self.arn_of(name)
        document = {
            self.family.name_member: name,
            self.family.arn_member: arn,
            "DisplayName": name,
            **{key: copy.deepcopy(value) for key, value in members.items() if value is not None},
            "CreationTime": now,
            "LastModifiedTime": now,
        }
        moment = to_datetime(now)
        record = ResourceRecord(self.family.kind, name, arn, "", moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ValidationError(f"{self.title} '{arn}' already exists.") from exc
        if tags:
            self._store.tags.add(arn, tags)
        self.publish(CREATED, record)
        return record

    def change(self, name_or_arn: str, change: Callable[[ResourceRecord], None]) -> ResourceRecord:
        """Applies `change` to the stored entity in one transaction and stamps the change."""
        record = self.get(name_or_arn)

        def stamped(stored: ResourceRecord) -> None:
            change(stored)
            now = time.time()
            stored.document["LastModifiedTime"] = now
            stored.last_modified_time = to_datetime(now)

        try:
            changed = self._repo.modify(record.name, stamped)
        except NotFound as exc:
            raise self.not_found(record.name) from exc
        self.publish(UPDATED, changed)
        return changed

    def remove(self, record: ResourceRecord) -> None:
        """Deletes a stored entity with its tags."""
        try:
            self._repo.delete(record.name)
        except NotFound as exc:
            raise self.not_found(record.name) from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)

    # -- listing ---------------------------------------------------------------------------

    def list_page(
        self, request: dict[str, Any], conditions: Sequence[Expression], summary: Summary
    ) -> dict[str, Any]:
        """One page of List<Kind>s: entities meeting `conditions` and the request's
        CreatedAfter / CreatedBefore, sorted by its SortBy (Name or CreationTime)."""
        wanted = list(conditions)
        if request.get("CreatedAfter") is not None:
            wanted.append(Condition(("CreationTime",), "GreaterThan", epoch(request["CreatedAfter"])))
        if request.get("CreatedBefore") is not None:
            wanted.append(Condition(("CreationTime",), "LessThan", epoch(request["CreatedBefore"])))
        sort = ColumnSort(
            request.get("SortBy") or self.family.default_sort_by,
            request.get("SortOrder") or self.family.default_sort_order,
        )
        try:
            records, token = self._repo.query(
                AllOf(wanted) if wanted else None,
                sort,
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except (InvalidNextToken, QueryError) as exc:
            raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
        return {self.family.list_member: [summary(r.document) for r in records], "NextToken": token}


def missing(title: str, arn: str) -> ResourceNotFound:
    """SageMaker's error for an entity that does not exist."""
    return ResourceNotFound(f"{title} '{arn}' does not exist.")


def source_summary(document: dict[str, Any]) -> dict[str, Any] | None:
    """A document's Source as summaries show it (ExperimentSource, TrialSource, ...)."""
    source = document.get("Source")
    return dict(source) if source else None
