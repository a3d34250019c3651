"""Document queries compiled to SQL: conditions and sorts of `sagebox.store.query`.

`where_clause` turns a condition into a WHERE clause over ``resources`` rows;
`sort_key` turns a sort into the ORDER BY key paging works with. The meaning of
every condition and sort is documented in `sagebox.store.query`; this module only
says it in SQL, through `sagebox.store.json_sql` for each backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sagebox.store.errors import QueryError
from sagebox.store.json_sql import (
    JsonValue,
    byte_ordered,
    contains_substring,
    document_value,
)
from sagebox.store.query import (
    COMPLEMENTS,
    EACH,
    MAX_NESTING,
    SORTABLE_COLUMNS,
    AllOf,
    AnyElement,
    AnyOf,
    ColumnSort,
    Condition,
    DocumentSort,
    Expression,
    Match,
    Operator,
    Scalar,
    Segment,
    Sort,
    SortOrder,
    SortValueType,
    TagCondition,
)
from sagebox.store.tables import resources, tags

_COMPARE: dict[Operator, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    Operator.GREATER_THAN: lambda left, right: left > right,
    Operator.GREATER_THAN_OR_EQUAL_TO: lambda left, right: left >= right,
    Operator.LESS_THAN: lambda left, right: left < right,
    Operator.LESS_THAN_OR_EQUAL_TO: lambda left, right: left <= right,
}
_TIME_COLUMNS = ("CreationTime", "LastModifiedTime")


@dataclass(frozen=True)
class SortKey:
    """A sort compiled for one backend: what rows are ordered by, and how."""

    expression: sa.ColumnElement[Any]
    descending: bool
    value_type: SortValueType
    nullable: bool
    is_name: bool


Answer = Callable[[Condition], "sa.ColumnElement[bool] | None"]


def where_clause(
    expression: Expression | None, dialect: str, answer: Answer | None = None
) -> sa.ColumnElement[bool]:
    """The condition on ``resources`` rows (correlated to ``resources`` in the query).

    ``answer`` may give an equivalent test for a condition on the document root
    (the document index does, `sagebox.store.index_plans`); None keeps the JSON test.
    """
    if expression is None:
        return sa.true()
    return _compile(expression, document_value(dialect), dialect, 0, answer)


def sort_shape(sort: Sort) -> SortKey:
    """What paging needs to know of ``sort``, without its SQL (``expression`` is NULL)."""
    descending = sort.order == SortOrder.DESCENDING
    if isinstance(sort, ColumnSort):
        column = SORTABLE_COLUMNS[sort.column]
        value_type: SortValueType = "time" if sort.column in _TIME_COLUMNS else "text"
        return SortKey(sa.null(), descending, value_type, False, column is resources.c.name)
    if not isinstance(sort, DocumentSort):
        raise QueryError(f"a sort must be a ColumnSort or a DocumentSort, got {sort!r}")
    return SortKey(sa.null(), descending, "number" if sort.numeric else "text", True, False)


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
        if sort.numeric_strings:
            return value.spelled_number()
        return value.number() if sort.numeric else value.text()

    aggregate = sa.func.max if descending else sa.func.min
    expression = _sort_value(document_value(dialect), tuple(sort.path), pick, aggregate)
    if not sort.numeric:
        # Through an aggregate too, and in ORDER BY as in the paging condition.
        expression = byte_ordered(dialect, expression)
    return SortKey(expression, descending, "number" if sort.numeric else "text", True, False)


def _compile(
    expression: Expression,
    root: JsonValue,
    dialect: str,
    depth: int,
    answer: Answer | None = None,
) -> sa.ColumnElement[bool]:
    if depth > MAX_NESTING:
        raise QueryError(f"conditions are nested more than {MAX_NESTING} deep")
    if isinstance(expression, AllOf | AnyOf):
        children = [
            _compile(child, root, dialect, depth + 1, answer) for child in expression.conditions
        ]
        if isinstance(expression, AllOf):
            return sa.and_(*children) if children else sa.true()
        return sa.or_(*children) if children else sa.false()
    if isinstance(expression, AnyElement):
        inner = expression.condition

        def element_satisfies(element: JsonValue) -> sa.ColumnElement[bool]:
            return _compile(inner, element, dialect, depth + 1)

        return _somewhere(root, (*expression.path, EACH), element_satisfies)
    if isinstance(expression, Condition):
        answered = answer(expression) if answer is not None else None
        if answered is not None:
            return answered
        return _document_condition(expression, root, dialect)
    if isinstance(expression, TagCondition):
        return _tag_condition(expression, dialect)
    raise QueryError(f"not a query expression: {expression!r}")


def _document_condition(
    condition: Condition, root: JsonValue, dialect: str
) -> sa.ColumnElement[bool]:
    operator = Operator(condition.operator)
    positive = COMPLEMENTS.get(operator, operator)
    value = condition.value

    def leaf(at: JsonValue) -> sa.ColumnElement[bool]:
        return _value_test(at, positive, value, dialect, condition.numeric_strings)

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
    at: JsonValue, operator: Operator, value: Any, dialect: str, numeric_strings: bool = False
) -> sa.ColumnElement[bool]:
    if numeric_strings:
        # Validation allowed numbers only, and no Exists or Contains.
        if operator is Operator.IN:
            return at.spelled_number().in_([_bound(item) for item in value])
        if operator is Operator.EQUALS:
            return at.spelled_number() == _bound(value)
        return _COMPARE[operator](at.spelled_number(), _bound(value))
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
    return _COMPARE[operator](_typed(at, value), _bound(value))


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
    positive = COMPLEMENTS.get(operator, operator)
    value: Any = condition.value
    test: list[sa.ColumnElement[bool]] = []
    if positive is Operator.EQUALS:
        test.append(tags.c.value == sa.literal(value, sa.Text()))
    elif positive is Operator.IN:
        test.append(tags.c.value.in_(list(value)))
    elif positive is Operator.CONTAINS:
        test.append(contains_substring(dialect, tags.c.value, value))
    elif positive in _COMPARE:
        ordered = byte_ordered(dialect, tags.c.value)
        test.append(_COMPARE[positive](ordered, sa.literal(value, sa.Text())))
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
