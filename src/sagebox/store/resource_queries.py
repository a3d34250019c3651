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
    records, token, _ = query_and_count(
        database, kinds, where, sort, max_results=max_results, next_token=next_token, index=index
    )
    return records, token


def query_and_count(
    database: Database,
    kinds: Sequence[str],
    where: Expression | None = None,
    sort: Sort | None = None,
    *,
    max_results: int = 100,
    next_token: str | None = None,
    count_limit: int | None = None,
    index: DocumentIndex | None = None,
) -> tuple[list[ResourceRecord], str | None, int | None]:
    """`query_resources`' page, and with ``count_limit`` the count of all matching
    records up to it (`count_resources`), read in one transaction so that they agree."""
    wanted = check_kinds(kinds)
    order = ColumnSort() if sort is None else sort
    check_where(where)
    if not isinstance(order, ColumnSort | DocumentSort):
        raise QueryError(f"a sort must be a ColumnSort or a DocumentSort, got {order!r}")
    if max_results < 1:
        raise QueryError(f"max_results must be at least 1, got {max_results}")
    _check_limit(count_limit)
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
        plan = _Plan(connection, database.dialect, wanted, where, index)
        rows = plan.page(order, shape, position, max_results + 1)
        total = plan.count(count_limit) if count_limit is not None else None
    records = [record_of(row) for row in rows[:max_results]]
    if len(rows) <= max_results:
        return records, None, total
    return records, encode_position(fingerprint, shape.position(rows[max_results - 1])), total


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
    _check_limit(limit)
    with database.read() as connection:
        return _Plan(connection, database.dialect, wanted, where, index).count(limit)


def check_kinds(kinds: Sequence[str]) -> list[str]:
    if isinstance(kinds, str) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise QueryError(f"kinds must be a non-empty list of resource kinds, got {kinds!r}")
    return sorted(set(kinds))


def check_where(where: object) -> None:
    if where is not None and not isinstance(where, EXPRESSION_TYPES):
        raise QueryError(f"not a query expression: {where!r}")


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise QueryError(f"limit must not be negative, got {limit}")


def _scope(kinds: list[str], candidates: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    """Which records to look at: the kinds, or the index's candidates (of those kinds only).

    Without a condition on ``kind`` the database starts from the candidates rather
    than from an index on (kind, ...).
    """
    return resources.c.kind.in_(kinds) if candidates is None else candidates


class _Plan:
    """One query's filter in one read transaction, with what the document index answers."""

    def __init__(
        self,
        connection: sa.Connection,
        dialect: str,
        kinds: list[str],
        where: Expression | None,
        index: DocumentIndex | None,
    ) -> None:
        self._connection = connection
        self._dialect = dialect
        self._kinds = kinds
        self._where = where
        self._planner = IndexPlanner(index, connection, kinds) if index is not None else None
        answer = self._planner.answer if self._planner is not None else None
        self._condition = where_clause(where, dialect, answer)
        self._candidates: sa.ColumnElement[bool] | None = None
        self._estimated = False

    def candidates(self) -> sa.ColumnElement[bool] | None:
        if not self._estimated and self._planner is not None:
            self._candidates = self._planner.candidates(self._where)
            self._estimated = True
        return self._candidates

    def page(
        self, order: Sort, shape: Keyset, position: list[Any] | None, limit: int
    ) -> list[sa.Row[Any]]:
        planner = self._planner
        indexed = planner.sort(order) if planner is not None else None
        bounds = planner.walk_bounds(self._where, indexed) if planner and indexed else []
        # A walk bounded by the filter itself visits matching values only; otherwise
        # a small range of candidates may be cheaper than walking.
        candidates = None if bounds else self.candidates()
        page = _Page(
            self._connection, shape, self._condition, self._kinds, candidates, position, limit
        )
        if planner is not None and indexed is not None and candidates is None:
            return page.walked(indexed, bounds, planner.requires_value(self._where, indexed))
        if indexed is not None:
            # Few candidates: sort them on their index values rather than walk every value.
            key = replace(shape.key, expression=indexed.value())
            return page.plain(Keyset(key, shape.with_kind))
        return page.plain(Keyset(sort_key(order, self._dialect), shape.with_kind))

    def count(self, limit: int | None) -> int:
        exact = self._planner.count(self._where, limit) if self._planner is not None else None
        if exact is not None:
            return exact
        matching = sa.select(sa.literal_column("1")).select_from(resources)
        matching = matching.where(_scope(self._kinds, self.candidates()), self._condition)
        if limit is not None:
            matching = matching.limit(limit)
        statement = sa.select(sa.func.count()).select_from(matching.subquery())
        return int(self._connection.scalar(statement) or 0)


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
        self, indexed: IndexedSort, bounds: list[sa.ColumnElement[bool]], valued_only: bool
    ) -> list[sa.Row[Any]]:
        """Records with a value, walking the index in order; then those without, by name
        (none when ``valued_only``: the filter needs a value)."""
        rows: list[sa.Row[Any]] = []
        position = self._position
        if position is None or position[0] is not None:
            rows = self._walk(indexed, position, bounds)
            if len(rows) >= self._limit or valued_only:
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
