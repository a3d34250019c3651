"""The List* operations' shared semantics: filters, sorting, pagination, summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.families import Family
from sagebox.store import InvalidNextToken, ResourceRecord, ResourceRepository

DEFAULT_PAGE_SIZE = 10
Summary = Callable[[ResourceRecord], dict[str, Any]]


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
