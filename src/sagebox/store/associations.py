"""Lineage associations (directed edges between ARNs), kept in the generic resources table.

An association has no name and no ARN of its own: it is identified by its two ends. It is
stored as a resource of kind ``Association`` whose name and ``arn`` column both hold the key
``"<destination> <source>"`` (never an ARN: ARNs have no spaces) and whose ``parent_arn`` is
its source, so that both directions of a graph walk are lookups on indexes the table has:

- the edges leaving a set of ARNs: ``parent_arn IN (...)`` (``ix_resources_parent_arn``);
- the edges entering a set of ARNs: one key range per ARN, ``arn >= "<arn> "`` and
  ``arn < "<arn>!"`` (the unique ``arn`` index), since the key of every edge entering
  ``<arn>`` starts with ``"<arn> "``.

The kind is tested as ``kind || ''`` there, so that SQLite's planner (which has no
statistics) does not prefer the far less selective ``(kind, creation_time)`` index. Each
walk step is one query however many ARNs it starts from (in chunks of `ARNS_PER_QUERY`,
for the databases' bound-parameter limits). Rows found by a range are checked against the
document's exact ``DestinationArn``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.errors import NotFound, QueryError
from sagebox.store.keyset import Keyset
from sagebox.store.paging import decode_position, encode_position, query_fingerprint
from sagebox.store.query import ColumnSort, Condition, Expression, Operator, Sort, canonical
from sagebox.store.query_sql import sort_key, where_clause
from sagebox.store.resources import ResourceRecord, ResourceRepository
from sagebox.store.tables import resources

KIND = "Association"
ARNS_PER_QUERY = 400
_SEPARATOR = " "
_AFTER_SEPARATOR = "!"  # the character right after the separator in byte order


def association_name(source_arn: str, destination_arn: str) -> str:
    """The stored name of the edge from ``source_arn`` to ``destination_arn``."""
    return f"{destination_arn}{_SEPARATOR}{source_arn}"


class AssociationRepository:
    """Add, find, walk and remove lineage associations."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._records = ResourceRepository(database, KIND)

    def add(self, record: ResourceRecord) -> ResourceRecord:
        """Stores a new edge (``AlreadyExists`` if these two ends are joined already).

        Build ``record`` with `association_record`.
        """
        return self._records.create(record)

    def get(self, source_arn: str, destination_arn: str) -> ResourceRecord | None:
        return self._records.get(association_name(source_arn, destination_arn))

    def delete(self, source_arn: str, destination_arn: str) -> None:
        try:
            self._records.delete(association_name(source_arn, destination_arn))
        except NotFound as error:
            raise NotFound(KIND, association_name(source_arn, destination_arn)) from error

    def query(
        self,
        where: Expression | None = None,
        sort: Sort | None = None,
        *,
        source: str | None = None,
        destination: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> tuple[list[ResourceRecord], str | None]:
        """One page of edges whose documents satisfy ``where``, in ``sort`` order (CreationTime
        descending by default), keyset-paged as `ResourceRepository.query` pages.

        ``source`` / ``destination`` (an ARN each) keep only the edges leaving / entering it,
        found by index rather than by reading every edge.
        """
        order = ColumnSort() if sort is None else sort
        if max_results < 1:
            raise QueryError(f"max_results must be at least 1, got {max_results}")
        keyset = Keyset(sort_key(order, self._db.dialect), with_kind=False)
        fingerprint = query_fingerprint(
            KIND,
            {"where": canonical(where), "sort": canonical(order), "ends": [source, destination]},
        )
        by_end = source is not None or destination is not None
        conditions = [_is_edge() if by_end else resources.c.kind == KIND]
        conditions.append(where_clause(where, self._db.dialect))
        if source is not None:
            conditions.append(resources.c.parent_arn == source)
        if destination is not None:
            exact = Condition(("DestinationArn",), Operator.EQUALS, destination)
            conditions += [
                resources.c.arn >= f"{destination}{_SEPARATOR}",
                resources.c.arn < f"{destination}{_AFTER_SEPARATOR}",
                where_clause(exact, self._db.dialect),
            ]
        if next_token is not None:
            position = decode_position(
                next_token, scope=KIND, fingerprint=fingerprint, length=keyset.length
            )
            conditions.append(keyset.after(keyset.decode(position, KIND)))
        statement = (
            sa.select(resources, keyset.selected)
            .where(*conditions)
            .order_by(*keyset.order_by())
            .limit(max_results + 1)
        )
        with self._db.read() as connection:
            rows = connection.execute(statement).all()
        records = [_record(row) for row in rows[:max_results]]
        if len(rows) <= max_results:
            return records, None
        return records, encode_position(fingerprint, keyset.position(rows[max_results - 1]))

    def count(self, where: Expression | None = None) -> int:
        return self._records.count(where)

    def outgoing(self, sources: Iterable[str]) -> list[ResourceRecord]:
        """Every edge whose source is one of ``sources``."""
        found: list[ResourceRecord] = []
        for chunk in _chunks(sorted(set(sources))):
            statement = sa.select(resources).where(_is_edge(), resources.c.parent_arn.in_(chunk))
            found.extend(self._rows(statement))
        return found

    def incoming(self, destinations: Iterable[str]) -> list[ResourceRecord]:
        """Every edge whose destination is one of ``destinations``."""
        found: list[ResourceRecord] = []
        for chunk in _chunks(sorted(set(destinations))):
            ranges = [
                sa.and_(
                    resources.c.arn >= f"{arn}{_SEPARATOR}",
                    resources.c.arn < f"{arn}{_AFTER_SEPARATOR}",
                )
                for arn in chunk
            ]
            statement = sa.select(resources).where(_is_edge(), sa.or_(*ranges))
            wanted = set(chunk)
            found.extend(
                r for r in self._rows(statement) if r.document.get("DestinationArn") in wanted
            )
        return found

    def touching(self, arn: str) -> list[ResourceRecord]:
        """Every edge that has ``arn`` at either end."""
        seen: dict[str, ResourceRecord] = {}
        for record in [*self.outgoing([arn]), *self.incoming([arn])]:
            seen[record.name] = record
        return list(seen.values())

    def records_with_arns(self, arns: Iterable[str]) -> dict[str, ResourceRecord]:
        """The stored resources (of any kind) with these ARNs, by ARN."""
        found: dict[str, ResourceRecord] = {}
        for chunk in _chunks(sorted(set(arns))):
            statement = sa.select(resources).where(resources.c.arn.in_(chunk))
            found.update((record.arn, record) for record in self._rows(statement))
        return found

    def _rows(self, statement: sa.Select[Any]) -> list[ResourceRecord]:
        with self._db.read() as connection:
            return [_record(row) for row in connection.execute(statement)]


def association_record(
    source_arn: str, destination_arn: str, document: dict[str, Any], **times: Any
) -> ResourceRecord:
    """The stored form of one edge; ``times`` are ``creation_time`` and ``last_modified_time``."""
    return ResourceRecord(
        kind=KIND,
        name=association_name(source_arn, destination_arn),
        arn=association_name(source_arn, destination_arn),
        status="",
        document=document,
        parent_arn=source_arn,
        **times,
    )


def _is_edge() -> sa.ColumnElement[bool]:
    """``kind = 'Association'`` in a form no index serves (see the module's docstring)."""
    return resources.c.kind.concat("") == KIND


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), ARNS_PER_QUERY):
        yield list(items[start : start + ARNS_PER_QUERY])


def _record(row: sa.Row[Any]) -> ResourceRecord:
    return ResourceRecord(
        kind=row.kind,
        name=row.name,
        arn=row.arn,
        status=row.status,
        creation_time=row.creation_time,
        last_modified_time=row.last_modified_time,
        document=row.document,
        parent_arn=row.parent_arn,
    )
