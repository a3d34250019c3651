"""Search over Experiment, ExperimentTrial and ExperimentTrialComponent records.

What the SDK's `Run` and `ExperimentAnalytics` send: Filters (all must hold) on
properties of the Search record (`Parents.TrialName`, `TrialComponentName`,
`Metrics.<name>.Max`, `Parameters.<name>`, `Tags.<key>`), a SortBy property, paging.
Property names are resolved against the record's shape in botocore's model, so a list
member means "any element" and a metric is picked by its MetricName; the conditions run
in the store as document queries. A record is the stored document (Describe's answer
plus the members Search adds, such as Parents) with the entity's Tags.

This serves the experiment resources only; a general Search over every resource
(SubExpressions, NestedFilters, the other families) belongs to the Search service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

from sagebox.service_models import service_model
from sagebox.services.errors import ValidationError
from sagebox.services.job_states import public
from sagebox.store import (
    EACH,
    AllOf,
    AnyOf,
    ColumnSort,
    Condition,
    DocumentSort,
    InvalidNextToken,
    Match,
    MetadataStore,
    QueryError,
    TagCondition,
)
from sagebox.store.query import Expression, Segment, Sort

# Search's Resource -> (the store's kind, the SearchRecord member holding one result)
RESOURCES = {
    "Experiment": ("Experiment", "Experiment"),
    "ExperimentTrial": ("Trial", "Trial"),
    "ExperimentTrialComponent": ("TrialComponent", "TrialComponent"),
}
_NUMERIC = ("double", "float", "integer", "long", "timestamp")
_COLUMNS = {"CreationTime": "CreationTime", "LastModifiedTime": "LastModifiedTime"}
DEFAULT_PAGE_SIZE = 10


class ExperimentSearch:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def search(self, request: dict[str, Any]) -> dict[str, Any]:
        resource = request["Resource"]
        if resource not in RESOURCES:
            raise ValidationError(
                f"Search over Resource '{resource}' is not implemented by sagebox yet; "
                f"it searches {', '.join(RESOURCES)}."
            )
        kind, member = RESOURCES[resource]
        shape = service_model("sagemaker").shape_for(member)
        expression = request.get("SearchExpression") or {}
        unsupported = [k for k in ("SubExpressions", "NestedFilters") if expression.get(k)]
        if unsupported:
            raise ValidationError(f"SearchExpression {' and '.join(unsupported)} are not supported by sagebox yet.")
        conditions = [_condition(shape, kind, f) for f in expression.get("Filters") or []]
        where = (AnyOf(conditions) if expression.get("Operator") == "Or" else AllOf(conditions)) if conditions else None
        try:
            records, token = self._store.resources(kind).query(
                where,
                _sort(shape, kind, request.get("SortBy"), request.get("SortOrder") or "Descending"),
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except (InvalidNextToken, QueryError) as exc:
            raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
        results = [{member: {**public(r.document), "Tags": self._store.tags.list(r.arn)}} for r in records]
        return {"Results": results, "NextToken": token}


def _resolve(shape: Shape, kind: str, name: str) -> tuple[list[Segment], Shape]:
    """The document path of a Search property name, and the shape found there."""
    parts = name.split(".")
    segments: list[Segment] = []
    current, index = shape, 0
    while index < len(parts):
        part = parts[index]
        if current.type_name == "structure" and part in current.members:  # type: ignore[attr-defined]
            segments.append(part)
            current = current.members[part]  # type: ignore[attr-defined]
        elif current.type_name == "map":
            segments.append(part)
            current = current.value  # type: ignore[attr-defined]
        elif current.type_name == "list":
            element = current.member  # type: ignore[attr-defined]
            if element.type_name == "structure" and "MetricName" in element.members and part not in element.members:
                segments.append(Match("MetricName", part))
            else:
                segments.append(EACH)
                current = element
                continue
            current = element
        else:
            raise ValidationError(f"'{name}' is not a searchable property of {kind} records.")
        index += 1
    if current.type_name == "list":
        segments.append(EACH)
        current = current.member  # type: ignore[attr-defined]
    return segments, current


def _typed(shape: Shape, value: str, name: str) -> Any:
    if shape.type_name == "timestamp":
        return _epoch(value, name)
    if shape.type_name in _NUMERIC:
        try:
            return float(value)
        except ValueError:
            raise ValidationError(f"Filter '{name}': '{value}' is not a number.") from None
    if shape.type_name == "boolean":
        return value.lower() == "true"
    return value


def _epoch(value: str, name: str) -> float:
    """A timestamp Value: epoch seconds or ISO 8601."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"Filter '{name}': '{value}' is not a timestamp.") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _condition(shape: Shape, kind: str, given: dict[str, Any]) -> Expression:
    name, operator, value = given["Name"], given.get("Operator") or "Equals", given.get("Value")
    if name.startswith("Tags."):
        values: Any = value.split(",") if operator == "In" and value is not None else value
        return TagCondition(name.removeprefix("Tags."), operator, values)
    if value is None and operator not in ("Exists", "NotExists"):
        raise ValidationError(f"Filter '{name}' with Operator {operator} needs a Value.")
    path, leaf = _resolve(shape, kind, name)
    members = getattr(leaf, "members", {})
    if leaf.type_name == "structure" and {"StringValue", "NumberValue"} <= set(members):
        return _parameter(path, members, operator, value, name)
    return _compare(path, leaf, operator, value, name)


def _parameter(
    path: Sequence[Segment], members: dict[str, Shape], operator: str, value: str | None, name: str
) -> Expression:
    """A parameter holds a StringValue or a NumberValue: it matches as a string, and as a
    number when the Value is one; the negative operators must hold for both."""
    forms = [_compare([*path, "StringValue"], members["StringValue"], operator, value, name)]
    if operator != "Contains":
        with contextlib.suppress(ValidationError):  # a Value that is no number matches strings only
            forms.append(_compare([*path, "NumberValue"], members["NumberValue"], operator, value, name))
    return AllOf(forms) if operator in ("NotEquals", "NotExists") else AnyOf(forms)


def _compare(path: Sequence[Segment], leaf: Shape, operator: str, value: str | None, name: str) -> Condition:
    if operator in ("Exists", "NotExists"):
        return Condition(path, operator)
    if value is None:
        raise ValidationError(f"Filter '{name}' with Operator {operator} needs a Value.")
    if operator == "In":
        return Condition(path, operator, [_typed(leaf, v, name) for v in value.split(",")])
    if operator == "Contains":
        return Condition(path, operator, value)
    return Condition(path, operator, _typed(leaf, value, name))


def _sort(shape: Shape, kind: str, sort_by: str | None, order: str) -> Sort:
    if not sort_by or sort_by in _COLUMNS:
        return ColumnSort(_COLUMNS.get(sort_by or "", "LastModifiedTime"), order)
    if sort_by in ("Name", f"{kind}Name"):
        return ColumnSort("Name", order)
    path, leaf = _resolve(shape, kind, sort_by)
    return DocumentSort(path, order, numeric=leaf.type_name in _NUMERIC)
