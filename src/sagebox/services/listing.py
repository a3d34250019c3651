"""The List* operations' shared semantics: filters, sorting, pagination, summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sagebox.services.errors import ValidationError
from sagebox.services.families import Family
from sagebox.store import InvalidNextToken, ResourceRecord, ResourceRepository

DEFAULT_PAGE_SIZE = 10
Summary = Callable[[ResourceRecord], dict[str, Any]]
Item = TypeVar("Item")


def list_resources(
    repository: ResourceRepository,
    request: dict[str, Any],
    family: Family,
    *,
    summary: Summary | None = None,
    parent_arn: str | None = None,
) -> dict[str, Any]:
    """One page of List<Kind>s in SageMaker's semantics: the summaries and the next token.

    Sorting defaults to what the operation's documentation states; `summary` shapes one
    record (by default: the summary's members taken from the document).
    """
    try:
        records, token = repository.list(
            name_contains=request.get("NameContains"),
            status_equals=request.get("StatusEquals"),
            creation_time_after=request.get("CreationTimeAfter"),
            creation_time_before=request.get("CreationTimeBefore"),
            last_modified_time_after=request.get("LastModifiedTimeAfter"),
            last_modified_time_before=request.get("LastModifiedTimeBefore"),
            parent_arn=parent_arn,
            sort_by=request.get("SortBy") or family.default_sort_by,
            sort_order=request.get("SortOrder") or family.default_sort_order,
            max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
            next_token=request.get("NextToken"),
        )
    except InvalidNextToken as exc:
        raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
    shape = summary or (lambda r: {k: r.document[k] for k in family.summary_fields if k in r.document})
    return {family.list_member: [shape(record) for record in records], "NextToken": token}


def page_of(items: Sequence[Item], request: dict[str, Any], default_size: int = DEFAULT_PAGE_SIZE) -> tuple[list[Item], str | None]:
    """One page of a list already held in memory (a tuning job's trials, an AutoML job's
    candidates): the items from the request's NextToken on, MaxResults of them (or
    `default_size`), and the token of the next page, None on the last one."""
    start = 0
    if request.get("NextToken"):
        try:
            start = int(request["NextToken"])
        except ValueError as exc:
            raise ValidationError(f"Invalid pagination token: {request['NextToken']!r}") from exc
        if start < 0:
            raise ValidationError(f"Invalid pagination token: {request['NextToken']!r}")
    size = request.get("MaxResults") or default_size
    token = str(start + size) if start + size < len(items) else None
    return list(items[start : start + size]), token
