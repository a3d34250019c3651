"""The List* operations' shared semantics: filters, sorting, pagination, summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.store import InvalidNextToken, ResourceRepository

DEFAULT_PAGE_SIZE = 10


def list_resources(
    repository: ResourceRepository,
    request: dict[str, Any],
    *,
    summary_fields: Sequence[str],
    default_sort_order: str = "Ascending",
    parent_arn: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Summaries of one page, in SageMaker's List* semantics, and the next token."""
    try:
        records, token = repository.list(
            name_contains=request.get("NameContains"),
            status_equals=request.get("StatusEquals"),
            creation_time_after=request.get("CreationTimeAfter"),
            creation_time_before=request.get("CreationTimeBefore"),
            last_modified_time_after=request.get("LastModifiedTimeAfter"),
            last_modified_time_before=request.get("LastModifiedTimeBefore"),
            parent_arn=parent_arn,
            sort_by=request.get("SortBy") or "CreationTime",
            sort_order=request.get("SortOrder") or default_sort_order,
            max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
            next_token=request.get("NextToken"),
        )
    except InvalidNextToken as exc:
        raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
    summaries = [{k: r.document[k] for k in summary_fields if k in r.document} for r in records]
    return summaries, token
