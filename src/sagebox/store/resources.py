"""The generic resource table, seen through one repository per resource kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.document_index import DocumentIndex, IndexWriter
from sagebox.store.errors import AlreadyExists, NotFound, StoreError
from sagebox.store.paging import decode_token, encode_token, query_fingerprint
from sagebox.store.query import Expression, Sort
from sagebox.store.records import ResourceRecord, record_of
from sagebox.store.resource_queries import count_resources, query_resources
from sagebox.store.tables import resources, to_utc

__all__ = ["ResourceRecord", "ResourceRepository"]

SORT_COLUMNS: dict[str, sa.Column[Any]] = {
    "Name": resources.c.name,
    "CreationTime": resources.c.creation_time,
    "Status": resources.c.status,
    "LastModifiedTime": resources.c.last_modified_time,
}
SORT_ORDERS = ("Ascending", "Descending")
# One change of `ResourceRepository.modify_each`: the record's name, the change, and the
# rows of another table to write in the same transaction (or None).
RecordChange = tuple[
    str,
    Callable[["ResourceRecord"], None],
    Callable[[sa.Connection, "ResourceRecord"], None] | None,
]
_TIME_SORTS = ("CreationTime", "LastModifiedTime")
# `modify`'s two statements, built once: building a statement per call (and its cache
# key) costs more than SQLite takes to run it.
_LOCK_ROW = (
    sa.select(resources)
    .where(resources.c.kind == sa.bindparam("kind"), resources.c.name == sa.bindparam("name"))
    .with_for_update()
)
_WRITE_BACK = (
    sa.update(resources)
    .where(resources.c.id == sa.bindparam("row_id"))
    .values(
        status=sa.bindparam("status"),
        last_modified_time=sa.bindparam(
            "last_modified_time", type_=resources.c.last_modified_time.type
        ),
        parent_arn=sa.bindparam("parent_arn"),
        document=sa.bindparam("document", type_=resources.c.document.type),
    )
)


class ResourceRepository:
    """Create, read, change, delete and list the resources of one kind.

    With a `DocumentIndex` (as `MetadataStore` gives), every write keeps the kind's
    index rows in step in its own transaction, and queries use them.
    """

    def __init__(self, database: Database, kind: str, index: DocumentIndex | None = None) -> None:
        if not kind:
            raise ValueError("a resource kind must be a non-empty string")
        self._db = database
        self.kind = kind
        self._index = index

    @contextmanager
    def _writing(self) -> Iterator[tuple[sa.Connection, IndexWriter | None]]:
        """A write transaction, with the index writer that follows its changes."""
        with self._db.write() as connection:
            writer = self._index.writer(connection) if self._index is not None else None
            yield connection, writer
        if writer is not None and self._index is not None:
            self._index.committed(writer)

    def create(self, record: ResourceRecord) -> ResourceRecord:
        if record.kind != self.kind:
            raise ValueError(f"a {record.kind} record cannot be stored as a {self.kind}")
        stored = _in_utc(record)
        try:
            with self._writing() as (connection, writer):
                result = connection.execute(sa.insert(resources).values(**_columns(stored)))
                if writer is not None:
                    resource_id = result.inserted_primary_key[0]
                    writer.created(self.kind, resource_id, stored.name, stored.document)
        except sa.exc.IntegrityError as error:
            raise AlreadyExists(self.kind, record.name) from error
        return stored

    def get(self, name: str) -> ResourceRecord | None:
        return self._get_one(resources.c.name == name)

    def get_by_arn(self, arn: str) -> ResourceRecord | None:
        return self._get_one(resources.c.arn == arn)

    def modify(
        self,
        name: str,
        change: Callable[[ResourceRecord], None],
        *,
        also: Callable[[sa.Connection, ResourceRecord], None] | None = None,
    ) -> ResourceRecord:
        """Load, change and write back one record in a single locked transaction.

        ``change`` may set status, document, last_modified_time and parent_arn.
        If it raises, nothing is written and the exception propagates. ``also``
        writes rows of another table in the same transaction (a store repository
        keeping its rows in step with the record, such as its metric points).
        """
        return self.modify_each([(name, change, also)])[0]

    def modify_each(self, changes: Sequence[RecordChange]) -> list[ResourceRecord]:
        """`modify` for several (name, change, also) at once, in one transaction: all are
        written or none. A name may come more than once; each change sees the ones before."""
        with self._writing() as (connection, writer):
            return [
                self._modify_in(connection, writer, name, change, also)
                for name, change, also in changes
            ]

    def _modify_in(
        self,
        connection: sa.Connection,
        writer: IndexWriter | None,
        name: str,
        change: Callable[[ResourceRecord], None],
        also: Callable[[sa.Connection, ResourceRecord], None] | None,
    ) -> ResourceRecord:
        row = connection.execute(_LOCK_ROW, {"kind": self.kind, "name": name}).first()
        if row is None:
            raise NotFound(self.kind, name)
        record = record_of(row)
        # Taken before ``change``, which may change the document in place.
        before = writer.snapshot(self.kind, row.document) if writer is not None else None
        change(record)
        if (record.kind, record.name, record.arn) != (row.kind, row.name, row.arn):
            raise StoreError(f"{self.kind} {name!r}: kind, name and arn cannot be modified")
        if record.creation_time != row.creation_time:
            raise StoreError(f"{self.kind} {name!r}: creation_time cannot be modified")
        record = _in_utc(record)
        connection.execute(
            _WRITE_BACK,
            {
                "row_id": row.id,
                "status": record.status,
                "last_modified_time": record.last_modified_time,
                "parent_arn": record.parent_arn,
                "document": record.document,
            },
        )
        if writer is not None:
            writer.modified(self.kind, row.id, record.name, before, record.document)
        if also is not None:
            also(connection, record)
        return record

    def delete(self, name: str) -> None:
        with self._writing() as (connection, writer):
            resource_id = connection.scalar(
                sa.select(resources.c.id)
                .where(resources.c.kind == self.kind, resources.c.name == name)
                .with_for_update()
            )
            if resource_id is None:
                raise NotFound(self.kind, name)
            connection.execute(sa.delete(resources).where(resources.c.id == resource_id))
            if writer is not None:
                writer.deleted(self.kind, resource_id)

    def list(
        self,
        *,
        name_contains: str | None = None,
        status_equals: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        last_modified_time_after: datetime | None = None,
        last_modified_time_before: datetime | None = None,
        parent_arn: str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = 100,
        next_token: str | None = None,
    ) -> tuple[list[ResourceRecord], str | None]:
        """One page of records, SageMaker style; the token is None after the last page."""
        if sort_by not in SORT_COLUMNS:
            raise ValueError(f"sort_by {sort_by!r} is not one of {', '.join(SORT_COLUMNS)}")
        if sort_order not in SORT_ORDERS:
            raise ValueError(f"sort_order {sort_order!r} is not one of {', '.join(SORT_ORDERS)}")
        if max_results < 1:
            raise ValueError(f"max_results must be at least 1, got {max_results}")
        criteria: dict[str, Any] = {
            "name_contains": name_contains,
            "status_equals": status_equals,
            "creation_time_after": _utc_or_none(creation_time_after),
            "creation_time_before": _utc_or_none(creation_time_before),
            "last_modified_time_after": _utc_or_none(last_modified_time_after),
            "last_modified_time_before": _utc_or_none(last_modified_time_before),
            "parent_arn": parent_arn,
            "sort_by": sort_by,
            "sort_order": sort_order,
        }
        fingerprint = query_fingerprint(self.kind, criteria)
        column = SORT_COLUMNS[sort_by]
        descending = sort_order == "Descending"
        conditions = [resources.c.kind == self.kind, *_filters(criteria)]
        if next_token is not None:
            value, name = decode_token(
                next_token, kind=self.kind, fingerprint=fingerprint, is_time=sort_by in _TIME_SORTS
            )
            conditions.append(_after(column, value, name, descending))
        keys = [column] if column is resources.c.name else [column, resources.c.name]
        statement = (
            sa.select(resources)
            .where(*conditions)
            .order_by(*(key.desc() if descending else key.asc() for key in keys))
            .limit(max_results + 1)
        )
        with self._db.read() as connection:
            rows = connection.execute(statement).all()
        records = [record_of(row) for row in rows[:max_results]]
        if len(rows) <= max_results:
            return records, None
        last = records[-1]
        last_value = getattr(last, column.name)
        return records, encode_token(fingerprint, last_value, last.name)

    def query(
        self,
        where: Expression | None = None,
        sort: Sort | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> tuple[list[ResourceRecord], str | None]:
        """One page of the records of this kind that satisfy ``where``, in ``sort`` order.

        See `sagebox.store.query` for conditions and sorts; the default order is
        CreationTime descending, as `list`'s. The token is None after the last page.
        """
        return query_resources(
            self._db,
            [self.kind],
            where,
            sort,
            max_results=max_results,
            next_token=next_token,
            index=self._index,
        )

    def count(self, where: Expression | None = None, limit: int | None = None) -> int:
        """How many records of this kind satisfy ``where``; at most ``limit`` if given."""
        return count_resources(self._db, [self.kind], where, limit=limit, index=self._index)

    def list_by_status(self, statuses: Iterable[str]) -> list[ResourceRecord]:
        """Every record of this kind in one of ``statuses``, oldest first."""
        wanted = list(statuses)
        if not wanted:
            return []
        statement = (
            sa.select(resources)
            .where(resources.c.kind == self.kind, resources.c.status.in_(wanted))
            .order_by(resources.c.creation_time.asc(), resources.c.name.asc())
        )
        with self._db.read() as connection:
            return [record_of(row) for row in connection.execute(statement)]

    def _get_one(self, condition: sa.ColumnElement[bool]) -> ResourceRecord | None:
        statement = sa.select(resources).where(resources.c.kind == self.kind, condition)
        with self._db.read() as connection:
            row = connection.execute(statement).first()
        return None if row is None else record_of(row)


def _filters(criteria: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    c = resources.c
    candidates: list[tuple[Any, Callable[[Any], sa.ColumnElement[bool]]]] = [
        (criteria["name_contains"], lambda v: c.name.icontains(v, autoescape=True)),
        (criteria["status_equals"], lambda v: c.status == v),
        (criteria["creation_time_after"], lambda v: c.creation_time > v),
        (criteria["creation_time_before"], lambda v: c.creation_time < v),
        (criteria["last_modified_time_after"], lambda v: c.last_modified_time > v),
        (criteria["last_modified_time_before"], lambda v: c.last_modified_time < v),
        (criteria["parent_arn"], lambda v: c.parent_arn == v),
    ]
    return [build(value) for value, build in candidates if value is not None]


def _after(
    column: sa.Column[Any], value: Any, name: str, descending: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly past (value, name) in the listing's order."""
    if column is resources.c.name:
        return column < name if descending else column > name
    if descending:
        return sa.or_(column < value, sa.and_(column == value, resources.c.name < name))
    return sa.or_(column > value, sa.and_(column == value, resources.c.name > name))


def _columns(record: ResourceRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _in_utc(record: ResourceRecord) -> ResourceRecord:
    return dataclasses.replace(
        record,
        creation_time=to_utc(record.creation_time),
        last_modified_time=to_utc(record.last_modified_time),
    )


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)
