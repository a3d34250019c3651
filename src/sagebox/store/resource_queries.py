"""Document queries over stored resources: one page in a sort order, or a count.

`query_resources` and `count_resources` run the conditions and sorts of
`sagebox.store.query` in the database. With a `DocumentIndex` they let
`sagebox.store.index_plans` answer what the index can (same records, same order,
same paging tokens as without it); the rest reads the documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.document_index import DocumentIndex
from sagebox.store.errors import QueryError
from sagebox.store.index_plans import IndexedSort, IndexPlanner
from sagebox.store.keyset import SORT_KEY_LABEL, Keyset
from sagebox.store.paging import decode_position, encode_position, query_fingerprint
from sagebox.store.query import (
    EXPRESSION_TYPES,
    ColumnSort,
    DocumentSort,
    Expression,
    Sort,
    canonical,
)
from sagebox.store.query_sql import SortKey, sort_key, sort_shape, where_clause
from sagebox.store.records import ResourceRecord, record_of
from sagebox.store.tables import resources


def query_resources(
    database: Database,
    kinds: Sequence[str],
    where: Expression | None = None,
    sort: Sort | None = None,
    *,
    max_results: int = 100,
    next_token: str | None = None,
    index: DocumentIndex | None = None,
) -> tuple[list[ResourceRecord], str | None]:
    """One page of the records of any of ``kinds`` satisfying ``where``, in ``sort`` order.

    Names tie-break equal sort values, then kinds (a name is unique within a
    kind only); the token continues strictly after the page's last record.
    """
    wanted = check_kinds(kinds)
    order = ColumnSort() if sort is None else sort
    check_where(where)
    if not isinstance(order, ColumnSort | DocumentSort):
        raise QueryError(f"a sort must be a ColumnSort or a DocumentSort, got {order!r}")
    if max_results < 1:
        raise QueryError(f"max_results must be at least 1, got {max_results}")
    shape = Keyset(sort_shape(order), with_kind=len(wanted) > 1)
    scope = ",".join(wanted)
    fingerprint = query_fingerprint(
        "query", {"kinds": wanted, "where": canonical(where), "sort": canonical(order)}
    )
    position: list[Any] | None = None
    if next_token is not None:
        found = decode_position(
            next_token, scope=scope, fingerprint=fingerprint, length=shape.length
        )
        position = shape.decode(found, scope)
    with database.read() as connection:
        planner = IndexPlanner(index, connection, wanted) if index is not None else None
        condition = where_clause(where, database.dialect, planner.answer if planner else None)
        candidates = planner.candidates(where) if planner else None
        indexed = planner.sort(order) if planner else None
        page = _Page(connection, shape, condition, wanted, candidates, position, max_results + 1)
        if indexed is not None and planner is not None and candidates is None:
            rows = page.walked(indexed, planner.walk_bounds(where, indexed))
        elif indexed is not None:
            # Few candidates: sort them on their index values rather than walk every value.
            key = replace(shape.key, expression=indexed.value())
            rows = page.plain(Keyset(key, shape.with_kind))
        else:
            rows = page.plain(Keyset(sort_key(order, database.dialect), shape.with_kind))
    records = [record_of(row) for row in rows[:max_results]]
    if len(rows) <= max_results:
        return records, None
    return records, encode_position(fingerprint, shape.position(rows[max_results - 1]))


def count_resources(
    database: Database,
    kinds: Sequence[str],
    where: Expression | None = None,
    *,
    limit: int | None = None,
    index: DocumentIndex | None = None,
) -> int:
    """How many records of any of ``kinds`` satisfy ``where``; at most ``limit`` if given."""
    wanted = check_kinds(kinds)
    check_where(where)
    if limit is not None and limit < 0:
        raise QueryError(f"limit must not be negative, got {limit}")
    with database.read() as connection:
        planner = IndexPlanner(index, connection, wanted) if index is not None else None
        exact = planner.count(where, limit) if planner else None
        if exact is not None:
            return exact
        condition = where_clause(where, database.dialect, planner.answer if planner else None)
        scope_condition = _scope(wanted, planner.candidates(where) if planner else None)
        matching = sa.select(sa.literal_column("1")).select_from(resources)
        matching = matching.where(scope_condition, condition)
        if limit is not None:
            matching = matching.limit(limit)
        statement = sa.select(sa.func.count()).select_from(matching.subquery())
        return int(connection.scalar(statement) or 0)


def check_kinds(kinds: Sequence[str]) -> list[str]:
    if isinstance(kinds, str) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise QueryError(f"kinds must be a non-empty list of resource kinds, got {kinds!r}")
    return sorted(set(kinds))


def check_where(where: object) -> None:
    if where is not None and not isinstance(where, EXPRESSION_TYPES):
        raise QueryError(f"not a query expression: {where!r}")


def _scope(kinds: list[str], candidates: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    """Which records to look at: the kinds, or the index's candidates (of those kinds only).

    Without a condition on ``kind`` the database starts from the candidates rather
    than from an index on (kind, ...).
    """
    return resources.c.kind.in_(kinds) if candidates is None else candidates


class _Page:
    """The rows of one page (plus one, to tell whether another page follows)."""

    def __init__(
        self,
        connection: sa.Connection,
        keyset: Keyset,
        condition: sa.ColumnElement[bool],
        kinds: list[str],
        candidates: sa.ColumnElement[bool] | None,
        position: list[Any] | None,
        limit: int,
    ) -> None:
        self._connection = connection
        self._keyset = keyset
        self._condition = condition
        self._candidates = candidates
        self._scope = _scope(kinds, candidates)
        self._position = position
        self._limit = limit

    def plain(self, keyset: Keyset) -> list[sa.Row[Any]]:
        conditions = [self._scope, self._condition]
        if self._position is not None:
            conditions.append(keyset.after(self._position))
        statement = (
            sa.select(resources, keyset.selected)
            .where(*conditions)
            .order_by(*keyset.order_by())
            .limit(self._limit)
        )
        return list(self._connection.execute(statement).all())

    def walked(
        self, indexed: IndexedSort, bounds: list[sa.ColumnElement[bool]]
    ) -> list[sa.Row[Any]]:
        """Records with a value, walking the index in order; then those without, by name."""
        rows: list[sa.Row[Any]] = []
        position = self._position
        if position is None or position[0] is not None:
            rows = self._walk(indexed, position, bounds)
            if len(rows) >= self._limit:
                return rows
        return rows + self._without_value(indexed, position, self._limit - len(rows))

    def _walk(
        self,
        indexed: IndexedSort,
        position: list[Any] | None,
        bounds: list[sa.ColumnElement[bool]],
    ) -> list[sa.Row[Any]]:
        key = self._keyset.key
        table = indexed.table
        walk = Keyset(
            SortKey(table.c.value, key.descending, key.value_type, nullable=False, is_name=False),
            self._keyset.with_kind,
            name_column=table.c.name,
        )
        conditions = [
            table.c.key_id.in_(indexed.key_ids),
            table.c.extreme.op("&")(indexed.extreme) != 0,
            *bounds,
            self._condition,
        ]
        if self._candidates is not None:  # the keys already select the kinds
            conditions.append(self._candidates)
        if position is not None:
            conditions.append(walk.after(position))
        statement = (
            sa.select(resources, walk.selected)
            .select_from(table.join(resources, resources.c.id == table.c.resource_id))
            .where(*conditions)
            .order_by(*walk.order_by())
            .limit(self._limit)
        )
        return list(self._connection.execute(statement).all())

    def _without_value(
        self, indexed: IndexedSort, position: list[Any] | None, limit: int
    ) -> list[sa.Row[Any]]:
        key = self._keyset.key
        by_name = Keyset(
            SortKey(resources.c.name, key.descending, "text", nullable=False, is_name=True),
            self._keyset.with_kind,
        )
        conditions = [self._scope, self._condition, sa.not_(indexed.has_value())]
        if position is not None and position[0] is None:
            conditions.append(by_name.after(position))
        statement = (
            sa.select(resources, sa.null().label(SORT_KEY_LABEL))
            .where(*conditions)
            .order_by(*by_name.order_by())
            .limit(limit)
        )
        return list(self._connection.execute(statement).all())
