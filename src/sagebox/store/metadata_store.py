"""The metadata store: the entry point to every repository."""

from __future__ import annotations

from collections.abc import Sequence

from sagebox.store.associations import AssociationRepository
from sagebox.store.database import Database
from sagebox.store.metrics import MetricRepository
from sagebox.store.query import Expression, Sort
from sagebox.store.resources import (
    ResourceRecord,
    ResourceRepository,
    count_resources,
    query_resources,
)
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
        self._associations = AssociationRepository(self._db)
        self._metrics = MetricRepository(self._db)

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def resources(self, kind: str) -> ResourceRepository:
        return ResourceRepository(self._db, kind)

    def query(
        self,
        kinds: Sequence[str],
        where: Expression | None = None,
        sort: Sort | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> tuple[list[ResourceRecord], str | None]:
        """`ResourceRepository.query` over several kinds at once (ties broken by name, kind)."""
        return query_resources(
            self._db, kinds, where, sort, max_results=max_results, next_token=next_token
        )

    def count(self, kinds: Sequence[str], where: Expression | None = None) -> int:
        return count_resources(self._db, kinds, where)

    @property
    def tags(self) -> TagRepository:
        return self._tags

    @property
    def associations(self) -> AssociationRepository:
        """Lineage associations (edges between ARNs), walkable in both directions."""
        return self._associations

    @property
    def metrics(self) -> MetricRepository:
        """CloudWatch metric data (series and their data points), expired by age."""
        return self._metrics

    def close(self) -> None:
        self._db.close()
