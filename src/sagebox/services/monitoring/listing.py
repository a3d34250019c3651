"""List operations of the monitoring families: SageMaker's filters as document conditions.

ListMonitoringSchedules, ListMonitoringExecutions and the List*JobDefinitions filter on
members inside the records (EndpointName, MonitoringJobDefinitionName, MonitoringType,
ScheduledTime, ...), so they query the store's documents (`store/query.py`) rather than
its columns; times are compared as the documents keep them (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.listing import DEFAULT_PAGE_SIZE
from sagebox.store import (
    AllOf,
    ColumnSort,
    Condition,
    DocumentSort,
    InvalidNextToken,
    Operator,
    QueryError,
    ResourceRecord,
    ResourceRepository,
)
from sagebox.store.query import Expression

Summary = Callable[[ResourceRecord], dict[str, Any]]
_TIME_FILTERS = {
    "CreationTimeBefore": ("CreationTime", Operator.LESS_THAN),
    "CreationTimeAfter": ("CreationTime", Operator.GREATER_THAN),
    "LastModifiedTimeBefore": ("LastModifiedTime", Operator.LESS_THAN),
    "LastModifiedTimeAfter": ("LastModifiedTime", Operator.GREATER_THAN),
    "ScheduledTimeBefore": ("ScheduledTime", Operator.LESS_THAN),
    "ScheduledTimeAfter": ("ScheduledTime", Operator.GREATER_THAN),
}


def equals(path: Sequence[str], value: Any) -> Condition:
    return Condition(tuple(path), Operator.EQUALS, value)


def conditions(request: dict[str, Any], name_member: str, status_member: str | None) -> list[Expression]:
    """The filters every monitoring List operation shares, as conditions on the documents."""
    found: list[Expression] = []
    if request.get("NameContains"):
        found.append(Condition((name_member,), Operator.CONTAINS, request["NameContains"]))
    for member, (path, operator) in _TIME_FILTERS.items():
        moment = request.get(member)
        if isinstance(moment, datetime):
            found.append(Condition((path,), operator, moment.timestamp()))
    if status_member and request.get("StatusEquals"):
        found.append(equals((status_member,), request["StatusEquals"]))
    return found


def page(
    repository: ResourceRepository,
    request: dict[str, Any],
    filters: list[Expression],
    list_member: str,
    summary: Summary,
    document_sorts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One page: sorted by request SortBy (CreationTime by default, Descending)."""
    sort_by = request.get("SortBy") or "CreationTime"
    order = request.get("SortOrder") or "Descending"
    sort = (
        DocumentSort((document_sorts[sort_by],), order, numeric=True)
        if document_sorts and sort_by in document_sorts
        else ColumnSort(sort_by, order)
    )
    try:
        records, token = repository.query(
            AllOf(filters), sort, max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
            next_token=request.get("NextToken"),
        )
    except (InvalidNextToken, QueryError) as exc:
        raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
    return {list_member: [summary(record) for record in records], "NextToken": token}
