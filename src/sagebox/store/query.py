"""Conditions on members of stored Describe documents, compiled to SQL (no I/O here).

SageMaker's ``Search`` and the filters of its List operations look inside the
Describe document; these conditions are evaluated by the database over the
``document`` column (SQLite JSON1, PostgreSQL ``jsonb``), so no record is
loaded into Python to be tested.

Paths
    A path is a sequence of segments from the document root: a member name
    (any string without a double quote or NUL, e.g. ``"validation:auc"``), `EACH`
    (every element of an array) or `Match` (every element of an array of
    objects whose ``field`` equals ``value``). ``("Metrics", Match("MetricName",
    "acc"), "Max")`` reaches the Max of the metric named acc. Array segments
    mean "some element satisfies the rest", as SageMaker Search treats lists;
    a path never walks into an array by itself: a member name applied to an
    array, or EACH applied to an object, reaches nothing.

Values are typed
    A ``str`` value is compared with JSON strings only (by code point, i.e.
    byte order of UTF-8, on both backends), an ``int`` or ``float`` with JSON
    numbers only (numerically, so 3 equals 3.0; PostgreSQL compares doubles,
    so integers beyond 2**53 may tie there and not on SQLite), a ``bool``
    with JSON true/false only. A value of another JSON type at the path, JSON
    null or no value at all does not satisfy a comparison. A caller holding
    SageMaker's string ``Value`` decides its type first (``"0.9"`` becomes
    ``0.9`` for a metric), as the Search layer knows which properties are
    numeric.

Numbers spelled as strings
    SageMaker keeps hyperparameters as strings and compares them as numbers.
    ``Condition(..., numeric_strings=True)`` (numbers only; Equals, NotEquals,
    In and the orderings) and ``DocumentSort(..., numeric_strings=True)`` treat
    a string in JSON's number syntax (`sagebox.store.json_sql.NUMBER_TEXT`: no
    surrounding space, an exponent of at most two digits, at most 100
    characters) as that number, besides JSON numbers themselves.

Operators (`Operator`, SageMaker's names)
    Equals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo:
        some value at the path compares so with ``value``. Ordering a
        boolean is refused.
    In: some value at the path equals one of ``value`` (a non-empty list).
    Contains: some value at the path is a string containing ``value``
        (a ``str``; case-sensitive, as botocore's ``Filter`` documentation
        says only "contains the string Value") or is an array with an element
        equal to ``value``.
    Exists: some value at the path is present and not JSON null.
    NotEquals and NotExists are the exact complements of Equals and Exists:
        no value at the path equals ``value`` (so a record without the
        member, or with null or a value of another type there, is not equal),
        and no non-null value is at the path.

Tags are not in the document: `TagCondition` tests the ``tags`` table rows of
the record's ARN with the same operators (values are strings).

`AllOf` and `AnyOf` combine conditions and nest, for SageMaker's
SubExpressions (And/Or); `AnyElement` applies a condition to the elements of
an array one at a time, for its NestedFilters.

Sorting is `ColumnSort` (Name, CreationTime, LastModifiedTime, Status) or
`DocumentSort` on a path, numeric or text; records without such a value at
the path sort last in both orders. Through array segments, the smallest
matching value is a record's key in ascending order, the largest in
descending order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Final, Literal

import sqlalchemy as sa

from sagebox.store.errors import QueryError
from sagebox.store.json_sql import check_member_name, check_no_nul
from sagebox.store.tables import resources

Scalar = str | int | float | bool
MAX_PATH_SEGMENTS = 32
MAX_NESTING = 32


class Each(Enum):
    """The array segment meaning "any element"; use the `EACH` constant."""

    EACH = "EACH"

    def __repr__(self) -> str:
        return "EACH"


EACH: Final = Each.EACH


@dataclass(frozen=True)
class Match:
    """Any element of an array of objects whose member ``field`` equals ``value``."""

    field: str
    value: Scalar

    def __post_init__(self) -> None:
        check_member_name(self.field)
        _check_scalar(self.value, "Match value")


Segment = str | Each | Match


class Operator(StrEnum):
    EQUALS = "Equals"
    NOT_EQUALS = "NotEquals"
    GREATER_THAN = "GreaterThan"
    GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualTo"
    LESS_THAN = "LessThan"
    LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualTo"
    CONTAINS = "Contains"
    EXISTS = "Exists"
    NOT_EXISTS = "NotExists"
    IN = "In"


ORDERINGS: Final = frozenset(
    {
        Operator.GREATER_THAN,
        Operator.GREATER_THAN_OR_EQUAL_TO,
        Operator.LESS_THAN,
        Operator.LESS_THAN_OR_EQUAL_TO,
    }
)
COMPLEMENTS: Final = {Operator.NOT_EQUALS: Operator.EQUALS, Operator.NOT_EXISTS: Operator.EXISTS}


@dataclass(frozen=True)
class Condition:
    """``operator`` holds for the value(s) at ``path`` in the document."""

    path: Sequence[Segment]
    operator: Operator | str
    value: Scalar | Sequence[Scalar] | None = None
    numeric_strings: bool = False
    """Strings spelling a number (`NUMBER_TEXT`) compare as that number too."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path))
        operator = _check_operator(self.operator)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", _check_value(operator, self.value, tag=False))
        if self.numeric_strings:
            _check_numeric_strings(operator, self.value)


@dataclass(frozen=True)
class TagCondition:
    """``operator`` holds for the value of the record's tag ``key`` (a string)."""

    key: str
    operator: Operator | str
    value: str | Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise QueryError(f"a tag key must be a string, got {self.key!r}")
        check_no_nul(self.key, "tag key")
        operator = _check_operator(self.operator)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", _check_value(operator, self.value, tag=True))


@dataclass(frozen=True)
class AllOf:
    """Every one of ``conditions`` holds; with none, every record matches."""

    conditions: Sequence[Expression]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", _check_children(self.conditions))


@dataclass(frozen=True)
class AnyOf:
    """At least one of ``conditions`` holds; with none, no record matches."""

    conditions: Sequence[Expression]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", _check_children(self.conditions))


@dataclass(frozen=True)
class AnyElement:
    """Some single element of the array at ``path`` satisfies ``condition``.

    Paths inside ``condition`` start at the element. This is SageMaker's
    NestedFilters: ``AnyElement(("InputDataConfig",), AllOf([ChannelName
    Equals "train", DataSource.S3DataSource.S3Uri Contains "bucket"]))`` needs
    one channel to satisfy both, where the same two conditions with
    ``("InputDataConfig", EACH, ...)`` paths under a plain `AllOf` may be met
    by two different channels.
    """

    path: Sequence[Segment]
    condition: Expression

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path))
        _check_children([self.condition])


Expression = Condition | TagCondition | AllOf | AnyOf | AnyElement
EXPRESSION_TYPES = (Condition, TagCondition, AllOf, AnyOf, AnyElement)


class SortOrder(StrEnum):
    ASCENDING = "Ascending"
    DESCENDING = "Descending"


SORTABLE_COLUMNS: dict[str, sa.Column[Any]] = {
    "Name": resources.c.name,
    "CreationTime": resources.c.creation_time,
    "Status": resources.c.status,
    "LastModifiedTime": resources.c.last_modified_time,
}


@dataclass(frozen=True)
class ColumnSort:
    """Sort on one of the record's own columns, named as SageMaker names them."""

    column: str = "CreationTime"
    order: SortOrder | str = SortOrder.DESCENDING

    def __post_init__(self) -> None:
        if self.column not in SORTABLE_COLUMNS:
            raise QueryError(
                f"cannot sort on {self.column!r}; choose one of {', '.join(SORTABLE_COLUMNS)}"
            )
        object.__setattr__(self, "order", _check_order(self.order))


@dataclass(frozen=True)
class DocumentSort:
    """Sort on the number (``numeric``) or the string at ``path``; records without one last."""

    path: Sequence[Segment]
    order: SortOrder | str = SortOrder.DESCENDING
    numeric: bool = True
    numeric_strings: bool = False
    """With ``numeric``: strings spelling a number (`NUMBER_TEXT`) sort as that number too."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path))
        object.__setattr__(self, "order", _check_order(self.order))
        if not isinstance(self.numeric, bool):
            raise QueryError(f"numeric must be True or False, got {self.numeric!r}")
        if not isinstance(self.numeric_strings, bool):
            raise QueryError(f"numeric_strings must be True or False, got {self.numeric_strings!r}")
        if self.numeric_strings and not self.numeric:
            raise QueryError("numeric_strings sorts numbers; it needs numeric=True")


Sort = ColumnSort | DocumentSort
SortValueType = Literal["number", "text", "time"]


def canonical(item: Expression | Sort | None) -> Any:
    """A JSON-able description of a condition or sort, equal only for equal queries.

    Paging tokens carry a digest of it, so a token cannot continue another query.
    """
    match item:
        case None:
            return None
        case Condition(path=path, operator=operator, value=value, numeric_strings=strings):
            found = {"path": canonical_path(path), "op": str(operator), "value": _plain(value)}
            return found | {"strings": True} if strings else found
        case TagCondition(key=key, operator=operator, value=value):
            return {"tag": key, "op": str(operator), "value": _plain(value)}
        case AllOf(conditions=children):
            return {"all": [canonical(child) for child in children]}
        case AnyOf(conditions=children):
            return {"any": [canonical(child) for child in children]}
        case AnyElement(path=path, condition=condition):
            return {"element": canonical_path(path), "where": canonical(condition)}
        case ColumnSort(column=column, order=order):
            return {"column": column, "order": str(order)}
        case DocumentSort(path=path, order=order, numeric=numeric, numeric_strings=strings):
            found = {"path": canonical_path(path), "order": str(order), "numeric": numeric}
            return found | {"strings": True} if strings else found
    raise QueryError(f"not a query expression or sort: {item!r}")


# Validation ---------------------------------------------------------------------


def _check_path(path: Sequence[Segment]) -> tuple[Segment, ...]:
    if isinstance(path, str) or not isinstance(path, Sequence):
        raise QueryError(f"a path must be a sequence of segments, got {path!r}")
    segments = tuple(path)
    if not segments:
        raise QueryError("a path needs at least one segment")
    if len(segments) > MAX_PATH_SEGMENTS:
        raise QueryError(f"a path has at most {MAX_PATH_SEGMENTS} segments, got {len(segments)}")
    for segment in segments:
        if isinstance(segment, str):
            check_member_name(segment)
        elif not isinstance(segment, Each | Match):
            raise QueryError(f"a path segment must be a name, EACH or Match, got {segment!r}")
    return segments


def _check_operator(operator: Operator | str) -> Operator:
    try:
        return Operator(operator)
    except ValueError:
        raise QueryError(
            f"unknown operator {operator!r}; choose one of {', '.join(Operator)}"
        ) from None


def _check_order(order: SortOrder | str) -> SortOrder:
    try:
        return SortOrder(order)
    except ValueError:
        raise QueryError(f"sort order {order!r} is not Ascending or Descending") from None


def _check_value(operator: Operator, value: Any, *, tag: bool) -> Any:
    if operator in (Operator.EXISTS, Operator.NOT_EXISTS):
        if value is not None:
            raise QueryError(f"{operator} takes no value, got {value!r}")
        return None
    if operator is Operator.IN:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
            raise QueryError(f"In takes a non-empty list of values, got {value!r}")
        return tuple(_check_scalar(item, "In value", text_only=tag) for item in value)
    _check_scalar(value, f"{operator} value", text_only=tag)
    if operator in ORDERINGS and isinstance(value, bool):
        raise QueryError(f"{operator} cannot order booleans")
    if operator is Operator.CONTAINS and tag and not isinstance(value, str):
        raise QueryError(f"Contains on a tag takes a string, got {value!r}")
    return value


def _check_numeric_strings(operator: Operator, value: Any) -> None:
    positive = COMPLEMENTS.get(operator, operator)
    if positive not in ORDERINGS | {Operator.EQUALS, Operator.IN}:
        raise QueryError(f"numeric_strings compares numbers; {operator} compares no number")
    values = value if isinstance(value, tuple) else (value,)
    if any(isinstance(item, bool | str) for item in values):
        raise QueryError(f"numeric_strings compares numbers, got {value!r}")


def _check_scalar(value: Any, what: str, *, text_only: bool = False) -> Scalar:
    if text_only and not isinstance(value, str):
        raise QueryError(f"{what} must be a string (tag values are strings), got {value!r}")
    if not isinstance(value, str | int | float):
        raise QueryError(f"{what} must be a string, number or boolean, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryError(f"{what} must be a finite number, got {value!r}")
    if isinstance(value, str):
        check_no_nul(value, what)
    return value


def _check_children(children: Sequence[Expression]) -> tuple[Expression, ...]:
    if isinstance(children, str) or not isinstance(children, Sequence):
        raise QueryError(f"conditions must be a list, got {children!r}")
    for child in children:
        if not isinstance(child, EXPRESSION_TYPES):
            raise QueryError(f"not a query expression: {child!r}")
    return tuple(children)


def canonical_path(path: Sequence[Segment]) -> list[Any]:
    """A path as JSON-able data: names, {"each": true} and {"match": [field, value]}."""

    def one(segment: Segment) -> Any:
        if isinstance(segment, Match):
            return {"match": [segment.field, segment.value]}
        if isinstance(segment, Each):
            return {"each": True}
        return segment

    return [one(segment) for segment in path]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
