"""The document index: declared document paths' values, kept in step with every write.

Sorting 100,000 records on a value inside their documents means reading every
document; so does a filter on one. The index keeps, for each record of a kind
that declared `IndexedPath` patterns, one row per concrete path, value type and
distinct value (`sagebox.store.index_paths`) in ``document_numbers`` or
``document_texts``, B-tree indexed on (key, value, name). A sort on an indexed
path walks that B-tree in order and stops after a page; a filter on one becomes
a range of it. `sagebox.store.index_plans` decides when; this module keeps the
rows right.

Kept in step: `IndexWriter` is used by `ResourceRepository` inside the same
transaction as the create, modify or delete it follows, so the rows never
disagree with committed documents.

Declared and built: the services layer calls `MetadataStore.declare_document_index`
once per kind at start. ``indexed_kinds`` remembers which declaration a kind's rows
were built for. When it differs (a new path was declared, or none was built yet),
the kind's rows are dropped and rebuilt from every stored document, in batches of
`BACKFILL_BATCH` records, each its own transaction; queries leave the index alone
for that kind until the rebuild is done. A kind that has built rows but is not
declared by this process (a newer release dropped it) has its ``indexed_kinds`` row
removed on its first write, so a later declaration rebuilds rather than trusts rows
nobody kept up.

The index belongs to one process's declarations: every process writing to a
database must declare the same paths (each sagebox server does, from the same code).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sagebox.store.database import INDEX_BUILD_LOCK_KEY, Database
from sagebox.store.index_paths import (
    Entries,
    IndexedPath,
    IndexKey,
    ValueType,
    covered,
    declaration_text,
    entries,
    key_for,
    rows,
)
from sagebox.store.query import Segment
from sagebox.store.tables import (
    document_index_keys,
    document_numbers,
    document_texts,
    indexed_kinds,
    resources,
)

BACKFILL_BATCH = 2_000
_KeyRef = tuple[str, IndexKey]


class DocumentIndex:
    """The declarations, key ids and maintenance of one database's document index."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._lock = threading.Lock()
        self._declared: dict[str, tuple[IndexedPath, ...]] = {}
        self._ready: set[str] = set()
        self._key_ids: dict[_KeyRef, int] = {}
        self._built: dict[str, str] | None = None  # kind -> declaration, per indexed_kinds

    def declare(self, kind: str, paths: Sequence[IndexedPath]) -> int:
        """Index ``paths`` of ``kind``'s documents; returns how many records were (re)indexed."""
        declared = tuple(paths)
        text = declaration_text(declared)
        with self._lock:
            self._declared[kind] = declared
            self._ready.discard(kind)
        # Servers starting together on one PostgreSQL store take turns: the first builds,
        # the others then find the index built.
        with self._db.exclusive(INDEX_BUILD_LOCK_KEY):
            with self._db.read() as connection:
                row = connection.execute(
                    sa.select(indexed_kinds).where(indexed_kinds.c.kind == kind)
                ).first()
            count = 0
            if row is None or row.declaration != text or not row.ready:
                count = self._rebuild(kind, text)
        with self._lock:
            self._ready.add(kind)
            if self._built is not None:
                self._built[kind] = text
        return count

    def declared(self, kind: str) -> tuple[IndexedPath, ...]:
        return self._declared.get(kind, ())

    def key_ids(
        self,
        connection: sa.Connection,
        kinds: Sequence[str],
        path: Sequence[Segment],
        value_type: ValueType,
    ) -> list[int] | None:
        """The ids of the key in every kind, or None unless all of them index it.

        An empty list means the key is indexed but no record has a value there yet.
        """
        key = key_for(path, value_type)
        found: list[int] = []
        for kind in kinds:
            if kind not in self._ready or not covered(self.declared(kind), path, value_type):
                return None
            key_id = self._key_ids.get((kind, key))
            if key_id is None:
                key_id = _select_key(connection, kind, key)
                if key_id is not None:
                    with self._lock:
                        self._key_ids[(kind, key)] = key_id
            if key_id is not None:
                found.append(key_id)
        return found

    def cached_key(self, ref: _KeyRef) -> int | None:
        return self._key_ids.get(ref)

    def writer(self, connection: sa.Connection) -> IndexWriter:
        """Maintenance inside ``connection``'s write transaction; then call `committed`."""
        return IndexWriter(self, connection)

    def committed(self, writer: IndexWriter) -> None:
        """Remember what the writer's transaction made durable (key ids, dropped kinds)."""
        with self._lock:
            self._key_ids.update(writer.new_keys)
            if self._built is not None:
                for kind in writer.dropped:
                    self._built.pop(kind, None)

    def built_kinds(self, connection: sa.Connection) -> Mapping[str, str]:
        if self._built is None:
            rows_ = connection.execute(sa.select(indexed_kinds.c.kind, indexed_kinds.c.declaration))
            with self._lock:
                self._built = {row.kind: row.declaration for row in rows_}
        return self._built

    def _rebuild(self, kind: str, text: str) -> int:
        keys_of_kind = sa.select(document_index_keys.c.id).where(document_index_keys.c.kind == kind)
        with self._db.write() as connection:
            connection.execute(sa.delete(indexed_kinds).where(indexed_kinds.c.kind == kind))
            connection.execute(
                sa.insert(indexed_kinds).values(kind=kind, declaration=text, ready=False)
            )
            for table in (document_numbers, document_texts):
                connection.execute(sa.delete(table).where(table.c.key_id.in_(keys_of_kind)))
        count, last_id = 0, 0
        while True:
            with self._db.write() as connection:
                batch = connection.execute(
                    sa.select(resources.c.id, resources.c.name, resources.c.document)
                    .where(resources.c.kind == kind, resources.c.id > last_id)
                    .order_by(resources.c.id)
                    .limit(BACKFILL_BATCH)
                    .with_for_update()
                ).all()
                writer = self.writer(connection)
                ids = [row.id for row in batch]
                writer.remove(ids)
                paths = self.declared(kind)
                writer.insert(
                    kind, [(row.id, row.name, entries(row.document, paths)) for row in batch]
                )
            self.committed(writer)
            if not batch:
                break
            count += len(batch)
            last_id = batch[-1].id
        with self._db.write() as connection:
            connection.execute(
                sa.update(indexed_kinds).where(indexed_kinds.c.kind == kind).values(ready=True)
            )
        return count


# A record's rows under some keys, per table; built once, as statements cost more to
# build than SQLite takes to run them.
_DROP_KEYS = {
    table.name: sa.delete(table).where(
        table.c.resource_id == sa.bindparam("resource_id"),
        table.c.key_id.in_(sa.bindparam("key_ids", expanding=True)),
    )
    for table in (document_numbers, document_texts)
}


class IndexWriter:
    """Keeps index rows in step with one write transaction's changes to resources."""

    def __init__(self, index: DocumentIndex, connection: sa.Connection) -> None:
        self._index = index
        self._connection = connection
        self.new_keys: dict[_KeyRef, int] = {}
        self.dropped: set[str] = set()

    def created(self, kind: str, resource_id: int, name: str, document: Mapping[str, Any]) -> None:
        paths = self._paths(kind)
        if paths:
            self.insert(kind, [(resource_id, name, entries(document, paths))])

    def snapshot(self, kind: str, document: Mapping[str, Any]) -> Entries | None:
        """The entries of a document about to be changed in place (None: kind not indexed)."""
        paths = self._paths(kind)
        return entries(document, paths) if paths else None

    def modified(
        self,
        kind: str,
        resource_id: int,
        name: str,
        before: Entries | None,
        after: Mapping[str, Any],
    ) -> None:
        paths = self._paths(kind)
        if not paths:
            return
        found = entries(after, paths)
        if before is None:
            self.remove([resource_id])
            self.insert(kind, [(resource_id, name, found)])
            return
        # Only the keys whose values changed are rewritten: a trial component's metric
        # summaries change on every append, its other indexed values almost never.
        changed = [key for key in before.keys() | found.keys() if before.get(key) != found.get(key)]
        if changed:
            self._remove_keys(kind, resource_id, [key for key in changed if key in before])
            self.insert(
                kind, [(resource_id, name, {key: found[key] for key in changed if key in found})]
            )

    def deleted(self, kind: str, resource_id: int) -> None:
        if self._paths(kind):
            self.remove([resource_id])

    def remove(self, resource_ids: Sequence[int]) -> None:
        if resource_ids:
            for table in (document_numbers, document_texts):
                self._connection.execute(
                    sa.delete(table).where(table.c.resource_id.in_(list(resource_ids)))
                )

    def _remove_keys(self, kind: str, resource_id: int, keys: Sequence[IndexKey]) -> None:
        """Drops the record's rows under ``keys`` (a key never stored has no rows)."""
        for table in (document_numbers, document_texts):
            in_table = [
                key for key in keys if (key.value_type == "text") == (table is document_texts)
            ]
            key_ids = [
                key_id for key in in_table if (key_id := self._stored_key_id(kind, key)) is not None
            ]
            if key_ids:
                self._connection.execute(
                    _DROP_KEYS[table.name], {"resource_id": resource_id, "key_ids": key_ids}
                )

    def insert(self, kind: str, records: Sequence[tuple[int, str, Entries]]) -> None:
        """Rows for each (resource id, name, entries), in one statement per table."""
        numbers: list[dict[str, Any]] = []
        texts: list[dict[str, Any]] = []
        for resource_id, name, found in records:
            for key, value, extreme in rows(found):
                row = {
                    "key_id": self._key_id(kind, key),
                    "value": value,
                    "name": name,
                    "extreme": extreme,
                    "resource_id": resource_id,
                }
                (texts if key.value_type == "text" else numbers).append(row)
        if numbers:
            self._connection.execute(sa.insert(document_numbers), numbers)
        if texts:
            self._connection.execute(sa.insert(document_texts), texts)

    def _paths(self, kind: str) -> tuple[IndexedPath, ...]:
        paths = self._index.declared(kind)
        if not paths and kind not in self.dropped:
            built = self._index.built_kinds(self._connection)
            if kind in built:
                # Rows of a kind nobody declares go stale from this write on.
                self._connection.execute(
                    sa.delete(indexed_kinds).where(indexed_kinds.c.kind == kind)
                )
                self.dropped.add(kind)
        return paths

    def _stored_key_id(self, kind: str, key: IndexKey) -> int | None:
        ref = (kind, key)
        known = self._index.cached_key(ref)
        if known is None:
            known = self.new_keys.get(ref)
        if known is None:
            known = _select_key(self._connection, kind, key)
            if known is not None:
                self.new_keys[ref] = known
        return known

    def _key_id(self, kind: str, key: IndexKey) -> int:
        ref = (kind, key)
        key_id = self._stored_key_id(kind, key)
        if key_id is not None:
            return key_id
        values = {"kind": kind, "path": key.path, "value_type": key.value_type}
        dialect = sqlite if self._connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(document_index_keys).values(**values)
        self._connection.execute(statement.on_conflict_do_nothing())
        key_id = _select_key(self._connection, kind, key)
        if key_id is None:
            raise RuntimeError(f"document index key {key} of {kind} was not stored")
        self.new_keys[ref] = key_id
        return key_id


def _select_key(connection: sa.Connection, kind: str, key: IndexKey) -> int | None:
    keys = document_index_keys.c
    return connection.scalar(
        sa.select(keys.id).where(
            keys.kind == kind, keys.path == key.path, keys.value_type == key.value_type
        )
    )
