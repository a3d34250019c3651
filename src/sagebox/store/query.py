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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Final, Literal

import sqlalchemy as sa

from sagebox.store.errors import QueryError
from sagebox.store.json_sql import (
    JsonValue,
    byte_ordered,
    check_member_name,
    check_no_nul,
    contains_substring,
    document_value,
)
from sagebox.store.tables import resources, tags

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


_ORDERINGS: dict[Operator, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    Operator.GREATER_THAN: lambda left, right: left > right,
    Operator.GREATER_THAN_OR_EQUAL_TO: lambda left, right: left >= right,
    Operator.LESS_THAN: lambda left, right: left < right,
    Operator.LESS_THAN_OR_EQUAL_TO: lambda left, right: left <= right,
}
_COMPLEMENTS = {Operator.NOT_EQUALS: Operator.EQUALS, Operator.NOT_EXISTS: Operator.EXISTS}


@dataclass(frozen=True)
class Condition:
    """``operator`` holds for the value(s) at ``path`` in the document."""

    path: Sequence[Segment]
    operator: Operator | str
    value: Scalar | Sequence[Scalar] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path))
        operator = _check_operator(self.operator)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", _check_value(operator, self.value, tag=False))


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
_TIME_COLUMNS = ("CreationTime", "LastModifiedTime")


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path))
        object.__setattr__(self, "order", _check_order(self.order))
        if not isinstance(self.numeric, bool):
            raise QueryError(f"numeric must be True or False, got {self.numeric!r}")


Sort = ColumnSort | DocumentSort
SortValueType = Literal["number", "text", "time"]


@dataclass(frozen=True)
class SortKey:
    """A sort compiled for one backend: what rows are ordered by, and how."""

    expression: sa.ColumnElement[Any]
    descending: bool
    value_type: SortValueType
    nullable: bool
    is_name: bool


def where_clause(expression: Expression | None, dialect: str) -> sa.ColumnElement[bool]:
    """The condition on ``resources`` rows (correlated to ``resources`` in the query)."""
    if expression is None:
        return sa.true()
    return _compile(expression, document_value(dialect), dialect, depth=0)


def sort_key(sort: Sort, dialect: str) -> SortKey:
    """The ORDER BY key of ``sort``, with what paging needs to know about it."""
    descending = sort.order == SortOrder.DESCENDING
    if isinstance(sort, ColumnSort):
        column = SORTABLE_COLUMNS[sort.column]
        value_type: SortValueType = "time" if sort.column in _TIME_COLUMNS else "text"
        return SortKey(column, descending, value_type, False, column is resources.c.name)
    if not isinstance(sort, DocumentSort):
        raise QueryError(f"a sort must be a ColumnSort or a DocumentSort, got {sort!r}")

    def pick(value: JsonValue) -> sa.ColumnElement[Any]:
        return value.number() if sort.numeric else value.text()

    aggregate = sa.func.max if descending else sa.func.min
    expression = _sort_value(document_value(dialect), tuple(sort.path), pick, aggregate)
    if not sort.numeric:
        # Through an aggregate too, and in ORDER BY as in the paging condition.
        expression = byte_ordered(dialect, expression)
    return SortKey(expression, descending, "number" if sort.numeric else "text", True, False)


def canonical(item: Expression | Sort | None) -> Any:
    """A JSON-able description of a condition or sort, equal only for equal queries.

    Paging tokens carry a digest of it, so a token cannot continue another query.
    """
    match item:
        case None:
            return None
        case Condition(path=path, operator=operator, value=value):
            return {"path": _canonical_path(path), "op": str(operator), "value": _plain(value)}
        case TagCondition(key=key, operator=operator, value=value):
            return {"tag": key, "op": str(operator), "value": _plain(value)}
        case AllOf(conditions=children):
            return {"all": [canonical(child) for child in children]}
        case AnyOf(conditions=children):
            return {"any": [canonical(child) for child in children]}
        case AnyElement(path=path, condition=condition):
            return {"element": _canonical_path(path), "where": canonical(condition)}
        case ColumnSort(column=column, order=order):
            return {"column": column, "order": str(order)}
        case DocumentSort(path=path, order=order, numeric=numeric):
            return {"path": _canonical_path(path), "order": str(order), "numeric": numeric}
    raise QueryError(f"not a query expression or sort: {item!r}")


# Compilation -------------------------------------------------------------------


def _compile(
    expression: Expression, root: JsonValue, dialect: str, depth: int
) -> sa.ColumnElement[bool]:
    if depth > MAX_NESTING:
        raise QueryError(f"conditions are nested more than {MAX_NESTING} deep")
    if isinstance(expression, AllOf):
        children = [_compile(child, root, dialect, depth + 1) for child in expression.conditions]
        return sa.and_(*children) if children else sa.true()
    if isinstance(expression, AnyOf):
        children = [_compile(child, root, dialect, depth + 1) for child in expression.conditions]
        return sa.or_(*children) if children else sa.false()
    if isinstance(expression, AnyElement):
        inner = expression.condition

        def element_satisfies(element: JsonValue) -> sa.ColumnElement[bool]:
            return _compile(inner, element, dialect, depth + 1)

        return _somewhere(root, (*expression.path, EACH), element_satisfies)
    if isinstance(expression, Condition):
        return _document_condition(expression, root, dialect)
    if isinstance(expression, TagCondition):
        return _tag_condition(expression, dialect)
    raise QueryError(f"not a query expression: {expression!r}")


def _document_condition(
    condition: Condition, root: JsonValue, dialect: str
) -> sa.ColumnElement[bool]:
    operator = Operator(condition.operator)
    positive = _COMPLEMENTS.get(operator, operator)
    value = condition.value

    def leaf(at: JsonValue) -> sa.ColumnElement[bool]:
        return _value_test(at, positive, value, dialect)

    matched = _somewhere(root, tuple(condition.path), leaf)
    if positive is operator:
        return matched
    # Comparisons with a missing value are NULL; NOT NULL would not match either.
    return sa.not_(sa.func.coalesce(matched, sa.false()))


def _somewhere(
    value: JsonValue,
    path: tuple[Segment, ...],
    leaf: Callable[[JsonValue], sa.ColumnElement[bool]],
) -> sa.ColumnElement[bool]:
    """``leaf`` holds for the value at ``path``; for some element, past array segments."""
    names = _leading_names(path)
    if names:
        value = value.member(names)
    rest = path[len(names) :]
    if not rest:
        return leaf(value)
    rows, element, conditions = value.elements()
    step = rest[0]
    if isinstance(step, Match):
        conditions.append(_equals(element.member((step.field,)), step.value))
    conditions.append(_somewhere(element, rest[1:], leaf))
    return sa.select(sa.literal_column("1")).select_from(rows).where(*conditions).exists()


def _sort_value(
    value: JsonValue,
    path: tuple[Segment, ...],
    pick: Callable[[JsonValue], sa.ColumnElement[Any]],
    aggregate: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]],
) -> sa.ColumnElement[Any]:
    """The typed value at ``path``; past array segments, the aggregate of the matching ones."""
    names = _leading_names(path)
    if names:
        value = value.member(names)
    rest = path[len(names) :]
    if not rest:
        return pick(value)
    rows, element, conditions = value.elements()
    step = rest[0]
    if isinstance(step, Match):
        conditions.append(_equals(element.member((step.field,)), step.value))
    inner = _sort_value(element, rest[1:], pick, aggregate)
    return sa.select(aggregate(inner)).select_from(rows).where(*conditions).scalar_subquery()


def _value_test(
    at: JsonValue, operator: Operator, value: Any, dialect: str
) -> sa.ColumnElement[bool]:
    if operator is Operator.EXISTS:
        return at.present()
    if operator is Operator.EQUALS:
        return _equals(at, value)
    if operator is Operator.IN:
        return sa.or_(*(_typed(at, group[0]).in_(group) for group in _by_type(value)))
    if operator is Operator.CONTAINS:
        rows, element, conditions = at.elements()
        member = sa.select(sa.literal_column("1")).select_from(rows)
        in_array = member.where(*conditions, _equals(element, value)).exists()
        if isinstance(value, str):
            return sa.or_(contains_substring(dialect, at.text(), value), in_array)
        return in_array
    return _ORDERINGS[operator](_typed(at, value), _bound(value))


def _equals(at: JsonValue, value: Scalar) -> sa.ColumnElement[bool]:
    return _typed(at, value) == _bound(value)


def _typed(at: JsonValue, value: Scalar) -> sa.ColumnElement[Any]:
    """The value at ``at`` in the JSON type of ``value`` (NULL if it has another)."""
    if isinstance(value, bool):
        return at.boolean()
    if isinstance(value, int | float):
        return at.number()
    return at.text()


def _bound(value: Scalar) -> sa.BindParameter[Any]:
    if isinstance(value, bool):
        return sa.literal(value, sa.Boolean())
    if isinstance(value, int):
        return sa.literal(value, sa.BigInteger())
    if isinstance(value, float):
        return sa.literal(value, sa.Float())
    return sa.literal(value, sa.Text())


def _by_type(values: Sequence[Scalar]) -> list[list[Scalar]]:
    """The values of an In list grouped by the JSON type they compare with."""
    groups: dict[str, list[Scalar]] = {}
    for value in values:
        kind = "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "num"
        groups.setdefault(kind, []).append(value)
    return list(groups.values())


def _tag_condition(condition: TagCondition, dialect: str) -> sa.ColumnElement[bool]:
    operator = Operator(condition.operator)
    positive = _COMPLEMENTS.get(operator, operator)
    value: Any = condition.value
    test: list[sa.ColumnElement[bool]] = []
    if positive is Operator.EQUALS:
        test.append(tags.c.value == sa.literal(value, sa.Text()))
    elif positive is Operator.IN:
        test.append(tags.c.value.in_(list(value)))
    elif positive is Operator.CONTAINS:
        test.append(contains_substring(dialect, tags.c.value, value))
    elif positive in _ORDERINGS:
        ordered = byte_ordered(dialect, tags.c.value)
        test.append(_ORDERINGS[positive](ordered, sa.literal(value, sa.Text())))
    tagged = (
        sa.select(sa.literal_column("1"))
        .select_from(tags)
        .where(tags.c.arn == resources.c.arn, tags.c.key == sa.literal(condition.key), *test)
        .exists()
    )
    return tagged if positive is operator else sa.not_(tagged)


def _leading_names(path: tuple[Segment, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for segment in path:
        if not isinstance(segment, str):
            break
        names.append(segment)
    return tuple(names)


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
    if operator in _ORDERINGS and isinstance(value, bool):
        raise QueryError(f"{operator} cannot order booleans")
    if operator is Operator.CONTAINS and tag and not isinstance(value, str):
        raise QueryError(f"Contains on a tag takes a string, got {value!r}")
    return value


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


def _canonical_path(path: Sequence[Segment]) -> list[Any]:
    def one(segment: Segment) -> Any:
        if isinstance(segment, Match):
            return {"match": [segment.field, segment.value]}
        if isinstance(segment, Each):
            return {"each": True}
        return segment

    return [one(segment) for segment in path]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
