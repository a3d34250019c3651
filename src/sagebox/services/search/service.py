"""SageMaker's Search: one page of a resource's records matching an expression, sorted.

The expression and sort are built from the request (`expressions`) and run by the
store (`MetadataStore.query`), where the document index answers what it can, so no
record is loaded to be tested in Python. The answer's ``TotalHits`` counts the
matches exactly up to `TOTAL_HITS_LIMIT` and says "GreaterThanOrEqualTo" beyond,
as the shape's Relation allows, so that a count never costs more than a bounded
scan (a filter on one indexed number is counted from the index alone, exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagebox.services.errors import ServiceError, ValidationError
from sagebox.services.job_states import public
from sagebox.services.search.expressions import ExpressionBuilder
from sagebox.services.search.properties import PropertyResolver
from sagebox.services.search.resources import BY_RESOURCE, SEARCH_RESOURCES, SearchResource
from sagebox.store import (
    AllOf,
    AnyOf,
    InvalidNextToken,
    MetadataStore,
    QueryError,
    ResourceRecord,
    TagCondition,
)
from sagebox.store.query import Expression, Sort

DEFAULT_MAX_RESULTS = 10
TOTAL_HITS_LIMIT = 1_000


class SearchService:
    """Search over the resources of `SEARCH_RESOURCES`; declares their document indexes."""

    def __init__(self, store: MetadataStore, services: Mapping[str, Any] | None = None) -> None:
        """``services``: family services by store kind, for the rows built by Describe."""
        self._store = store
        self._services = dict(services or {})
        self._builders: dict[str, ExpressionBuilder] = {}
        for row in SEARCH_RESOURCES:
            if row.indexed:
                store.declare_document_index(row.kind, row.indexed)

    def search(self, request: dict[str, Any]) -> dict[str, Any]:
        row = self._resource(request["Resource"])
        try:
            where, sort = self._query(row, request)
        except QueryError as exc:  # a name or value no document query can state (a NUL, a quote)
            raise ValidationError(f"The SearchExpression cannot be searched: {exc}") from exc
        if request.get("CrossAccountFilterOption") == "CrossAccount":
            # Nothing is shared with this account from another one.
            return {"Results": [], "TotalHits": {"Value": 0, "Relation": "EqualTo"}}
        token = request.get("NextToken") or None
        try:
            records, next_token, total = self._store.query_and_count(
                [row.kind],
                where,
                sort,
                max_results=request.get("MaxResults") or DEFAULT_MAX_RESULTS,
                next_token=token,
                count_limit=TOTAL_HITS_LIMIT,
            )
        except InvalidNextToken as exc:
            raise ValidationError(f"Invalid pagination token: {token!r}") from exc
        tags = self._store.tags.list_many([record.arn for record in records])
        results = [
            {row.member: {**self._record(row, record), "Tags": tags[record.arn]}}
            for record in records
        ]
        relation = "EqualTo" if total < TOTAL_HITS_LIMIT else "GreaterThanOrEqualTo"
        answer: dict[str, Any] = {
            "Results": results,
            "TotalHits": {"Value": total, "Relation": relation},
        }
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    def _query(
        self, row: SearchResource, request: dict[str, Any]
    ) -> tuple[Expression | None, Sort]:
        builder = self._builder(row)
        where = _visible(request.get("VisibilityConditions") or [])
        if request.get("SearchExpression") is not None:
            built = builder.where(request["SearchExpression"])
            where = built if where is None else AllOf([built, where])
        return where, builder.sort(request.get("SortBy"), request.get("SortOrder"))

    def _resource(self, resource: str) -> SearchResource:
        row = BY_RESOURCE.get(resource)
        if row is None:
            served = ", ".join(BY_RESOURCE)
            raise ValidationError(
                f"Search does not support resource {resource} in sagebox; it searches {served}."
            )
        return row

    def _record(self, row: SearchResource, record: ResourceRecord) -> dict[str, Any]:
        service = self._services.get(row.kind) if row.described else None
        if service is not None:
            try:
                described: dict[str, Any] = service.describe(record.name)
                return described
            except ServiceError:  # deleted since the page was read: what the page saw
                pass
        return public(record.document)

    def _builder(self, row: SearchResource) -> ExpressionBuilder:
        builder = self._builders.get(row.resource)
        if builder is None:
            resolver = PropertyResolver(row.resource, row.shape, row.metrics)
            builder = ExpressionBuilder(
                row.resource, resolver, row.name_member, row.contains_anywhere
            )
            self._builders[row.resource] = builder
        return builder


def _visible(conditions: list[dict[str, str]]) -> Expression | None:
    """VisibilityConditions: a record with the tag must have the value; one without it stays."""
    parts: list[Expression] = []
    for condition in conditions:
        key = condition.get("Key") or ""
        if not key.startswith("Tags.") or len(key) == len("Tags."):
            raise ValidationError(f"A VisibilityConditions Key must be 'Tags.<key>', got '{key}'.")
        tag = key[len("Tags.") :]
        parts.append(
            AnyOf(
                [
                    TagCondition(tag, "NotExists"),
                    TagCondition(tag, "Equals", condition.get("Value", "")),
                ]
            )
        )
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(parts)
