"""The metadata store: the entry point to every repository."""

from __future__ import annotations

from sagebox.store.database import Database
from sagebox.store.resources import ResourceRepository
from sagebox.store.tags import TagRepository


class MetadataStore:
    """Persistent metadata behind one SQLAlchemy URL (SQLite file or PostgreSQL).

    Opening a store brings its schema up to date. Every repository operation is
    its own short transaction, safe to call from many threads at once.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url)
        try:
            self._db.upgrade()
        except BaseException:
            self._db.close()
            raise
        self._tags = TagRepository(self._db)

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def resources(self, kind: str) -> ResourceRepository:
        return ResourceRepository(self._db, kind)

    @property
    def tags(self) -> TagRepository:
        return self._tags

    def close(self) -> None:
        self._db.close()
