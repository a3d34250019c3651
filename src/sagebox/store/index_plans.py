"""How a document query uses the document index, giving exactly the unindexed results.

Three uses, each an exact equivalence given rows kept in step with the documents
(`sagebox.store.document_index`):

Answering a condition
    A `Condition` on an indexed concrete path with Equals, In or an ordering, with
    numbers or strings (one type), holds for a record exactly when the record has an
    index row under the path's key (JSON numbers, JSON strings, or spelled numbers
    for ``numeric_strings``) whose value satisfies it; NotEquals is the complement.
    The JSON test becomes an index probe (`answer`).

Walking a sort
    A `DocumentSort` on an indexed path orders records by their smallest value under
    the key (ascending) or largest (descending): the row marked with that extreme.
    Walking ``(key, value, name)`` in order, joined to the records and filtered,
    yields records in the query's order and stops after a page (`sort`). Records
    with no value there come after, ordered by name, as without the index.

Driving from a small range
    When a top-level condition (the whole filter, or one member of a top-level
    AllOf) is answered by the index and its range holds at most
    `CANDIDATE_LIMIT` rows, the query starts from those records
    (`candidates`) instead of scanning the kind, so a rare match is found
    without reading every document.

A query over several kinds uses the index only if every kind indexes the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sagebox.store.document_index import DocumentIndex
from sagebox.store.index_paths import ValueType
from sagebox.store.query import (
    COMPLEMENTS,
    ORDERINGS,
    AllOf,
    Condition,
    DocumentSort,
    Expression,
    Operator,
    Sort,
    SortOrder,
)
from sagebox.store.tables import document_numbers, document_texts, resources

CANDIDATE_LIMIT = 2_000
_ANSWERABLE = ORDERINGS | {Operator.EQUALS, Operator.IN}


@dataclass(frozen=True)
class IndexedSort:
    """The index rows to walk for a sort: the key's rows marked with the sort's extreme."""

    table: sa.Table
    key_ids: tuple[int, ...]
    extreme: int
    """1: the record's smallest value (ascending); 2: its largest (descending)."""
    sort: DocumentSort
    value_type: ValueType

    def value(self) -> sa.ColumnElement[Any]:
        """The current ``resources`` row's sort key read from the index (NULL: no value)."""
        rows = self.table.alias()
        statement = sa.select(rows.c.value).where(
            rows.c.resource_id == resources.c.id,
            _probing(self.key_ids, rows),
            rows.c.extreme.op("&")(self.extreme) != 0,
        )
        return statement.scalar_subquery()

    def has_value(self) -> sa.ColumnElement[bool]:
        """The current ``resources`` row has a value under the key."""
        rows = self.table.alias()
        statement = (
            sa.select(sa.literal_column("1"))
            .select_from(rows)
            .where(rows.c.resource_id == resources.c.id, _probing(self.key_ids, rows))
        )
        return statement.exists()


@dataclass(frozen=True)
class _Range:
    """Index rows satisfying one condition's test."""

    table: sa.FromClause
    key_ids: tuple[int, ...]
    test: sa.ColumnElement[bool]
    operator: Operator

    def rows(self) -> list[sa.ColumnElement[bool]]:
        return [self.table.c.key_id.in_(self.key_ids), self.test]


class IndexPlanner:
    """Index plans for queries over ``kinds``, read through ``connection``."""

    def __init__(
        self, index: DocumentIndex, connection: sa.Connection, kinds: Sequence[str]
    ) -> None:
        self._index = index
        self._connection = connection
        self._kinds = list(kinds)
        self._ranges: dict[Condition, _Range | None] = {}

    def answer(self, condition: Condition) -> sa.ColumnElement[bool] | None:
        """An index probe equivalent to ``condition`` on the current record, if there is one."""
        operator = Operator(condition.operator)
        found = self._range(condition)
        if found is None:
            return None
        if not found.key_ids:
            probe: sa.ColumnElement[bool] = sa.false()
        else:
            probe = (
                sa.select(sa.literal_column("1"))
                .select_from(found.table)
                .where(
                    found.table.c.resource_id == resources.c.id,
                    _probing(found.key_ids, found.table),
                    found.test,
                )
                .exists()
            )
        return probe if COMPLEMENTS.get(operator, operator) is operator else sa.not_(probe)

    def sort(self, sort: Sort) -> IndexedSort | None:
        if not isinstance(sort, DocumentSort):
            return None
        value_type: ValueType = "text"
        if sort.numeric:
            value_type = "spelled_number" if sort.numeric_strings else "number"
        key_ids = self._index.key_ids(self._connection, self._kinds, sort.path, value_type)
        if key_ids is None:
            return None
        extreme = 2 if sort.order == SortOrder.DESCENDING else 1
        return IndexedSort(_table(value_type), tuple(key_ids), extreme, sort, value_type)

    def walk_bounds(
        self, where: Expression | None, indexed: IndexedSort
    ) -> list[sa.ColumnElement[bool]]:
        """Limits on the walked value implied by top-level conditions on the sort's own key.

        Walking the largest values (descending), "some value > x" is "the walked value
        > x", so the walk may stop where that fails; likewise for the smallest values
        ascending with < and <=. The conditions themselves stay in the query.
        """
        wanted = (
            (Operator.GREATER_THAN, Operator.GREATER_THAN_OR_EQUAL_TO)
            if indexed.extreme == 2
            else (Operator.LESS_THAN, Operator.LESS_THAN_OR_EQUAL_TO)
        )
        bounds: list[sa.ColumnElement[bool]] = []
        for condition in _top_level_conditions(where):
            operator = Operator(condition.operator)
            if operator not in wanted or tuple(condition.path) != tuple(indexed.sort.path):
                continue
            values = (condition.value,)
            if _value_type(values, condition.numeric_strings) != indexed.value_type:
                continue
            bound = sa.literal(
                condition.value, sa.Text() if indexed.value_type == "text" else sa.Double()
            )
            bounds.append(_ORDER_TESTS[operator](indexed.table.c.value, bound))
        return bounds

    def requires_value(self, where: Expression | None, indexed: IndexedSort) -> bool:
        """Whether the filter holds only for records with a value under the sort's key.

        A top-level Equals, In or ordering on the sort's own path and value type needs
        such a value; then no record sorts among those without one.
        """
        for condition in _top_level_conditions(where):
            if Operator(condition.operator) not in _ANSWERABLE:
                continue
            if tuple(condition.path) != tuple(indexed.sort.path):
                continue
            values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
            if _value_type(values, condition.numeric_strings) == indexed.value_type:
                return True
        return False

    def candidates(self, where: Expression | None) -> sa.ColumnElement[bool] | None:
        """``resources.id IN (...)`` for the smallest answered top-level range, if small."""
        best: tuple[int, _Range] | None = None
        for condition in _top_level_conditions(where):
            if Operator(condition.operator) not in _ANSWERABLE:
                continue
            found = self._range(condition)
            if found is None:
                continue
            size = self._size(found)
            if size <= CANDIDATE_LIMIT and (best is None or size < best[0]):
                best = (size, found)
        if best is None:
            return None
        found = best[1]
        if not found.key_ids:
            return sa.false()
        return resources.c.id.in_(sa.select(found.table.c.resource_id).where(*found.rows()))

    def count(self, where: Expression | None, limit: int | None = None) -> int | None:
        """The number of matching records read from the index alone, when it can be.

        A filter that is one ordering condition counts the rows marked with the
        extreme it tests (one per record: "some value > x" is "the largest > x").
        """
        if not isinstance(where, Condition) or Operator(where.operator) not in ORDERINGS:
            return None
        found = self._range(where)
        if found is None:
            return None
        if not found.key_ids:
            return 0
        greater = found.operator in (Operator.GREATER_THAN, Operator.GREATER_THAN_OR_EQUAL_TO)
        marked = found.table.c.extreme.op("&")(2 if greater else 1) != 0
        rows = (
            sa.select(sa.literal_column("1")).select_from(found.table).where(*found.rows(), marked)
        )
        if limit is not None:
            rows = rows.limit(limit)
        statement = sa.select(sa.func.count()).select_from(rows.subquery())
        return int(self._connection.scalar(statement) or 0)

    def _range(self, condition: Condition) -> _Range | None:
        if condition not in self._ranges:
            self._ranges[condition] = self._new_range(condition)
        return self._ranges[condition]

    def _new_range(self, condition: Condition) -> _Range | None:
        operator = Operator(condition.operator)
        positive = COMPLEMENTS.get(operator, operator)
        if positive not in _ANSWERABLE:
            return None
        values: tuple[Any, ...] = (
            condition.value if isinstance(condition.value, tuple) else (condition.value,)
        )
        value_type = _value_type(values, condition.numeric_strings)
        if value_type is None:
            return None
        key_ids = self._index.key_ids(self._connection, self._kinds, condition.path, value_type)
        if key_ids is None:
            return None
        # An alias of its own, so a probe inside a walk of the same table stays correlated
        # to the record rather than to the walked row.
        table = _table(value_type).alias()
        column = table.c.value
        bound = [
            sa.literal(value, sa.Text() if value_type == "text" else sa.Double())
            for value in values
        ]
        test: sa.ColumnElement[bool]
        if positive is Operator.IN:
            test = column.in_(bound)
        elif positive is Operator.EQUALS:
            test = column == bound[0]
        else:
            test = _ORDER_TESTS[positive](column, bound[0])
        return _Range(table, tuple(key_ids), test, positive)

    def _size(self, found: _Range) -> int:
        if not found.key_ids:
            return 0
        limited = (
            sa.select(sa.literal_column("1"))
            .select_from(found.table)
            .where(*found.rows())
            .limit(CANDIDATE_LIMIT + 1)
            .subquery()
        )
        return int(self._connection.scalar(sa.select(sa.func.count()).select_from(limited)) or 0)


_ORDER_TESTS = {
    Operator.GREATER_THAN: lambda column, value: column > value,
    Operator.GREATER_THAN_OR_EQUAL_TO: lambda column, value: column >= value,
    Operator.LESS_THAN: lambda column, value: column < value,
    Operator.LESS_THAN_OR_EQUAL_TO: lambda column, value: column <= value,
}


def _probing(key_ids: tuple[int, ...], rows: sa.FromClause) -> sa.ColumnElement[bool]:
    """The key test of a probe of one record's rows, kept off the (key_id, value) index.

    ``key_id + 0`` cannot use an index, so the database reads the record's rows through
    the (resource_id, key_id, value) index; without statistics SQLite would otherwise
    pick the (key_id, value, ...) index and scan every record's value of the key for
    each record probed.
    """
    return (rows.c.key_id + 0).in_(key_ids)


def _value_type(values: tuple[Any, ...], numeric_strings: bool) -> ValueType | None:
    if any(isinstance(value, bool) for value in values):
        return None
    if all(isinstance(value, str) for value in values):
        return None if numeric_strings else "text"
    if all(isinstance(value, int | float) for value in values):
        return "spelled_number" if numeric_strings else "number"
    return None


def _table(value_type: ValueType) -> sa.Table:
    return document_texts if value_type == "text" else document_numbers


def _top_level_conditions(where: Expression | None) -> list[Condition]:
    if isinstance(where, Condition):
        return [where]
    if isinstance(where, AllOf):
        return [child for child in where.conditions if isinstance(child, Condition)]
    return []
