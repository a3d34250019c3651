"""The metadata store: the entry point to every repository."""

from __future__ import annotations

from collections.abc import Sequence

from sagebox.store.associations import AssociationRepository
from sagebox.store.database import Database
from sagebox.store.document_index import DocumentIndex
from sagebox.store.index_paths import IndexedPath
from sagebox.store.leases import LeaseRepository
from sagebox.store.metric_points import MetricPointRepository
from sagebox.store.metrics import MetricRepository
from sagebox.store.query import Expression, Sort
from sagebox.store.records import ResourceRecord
from sagebox.store.resource_queries import count_resources, query_and_count, query_resources
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
        self._associations = AssociationRepository(self._db)
        self._metric_points = MetricPointRepository(self._db)
        self._index = DocumentIndex(self._db)
        self._metrics = MetricRepository(self._db)
        self._leases = LeaseRepository(self._db)

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def resources(self, kind: str) -> ResourceRepository:
        return ResourceRepository(self._db, kind, self._index)

    def declare_document_index(self, kind: str, paths: Sequence[IndexedPath]) -> int:
        """Keep the values at ``paths`` of ``kind``'s documents in the document index.

        Queries sorting or filtering on them then walk the index (same results).
        If the kind's declaration changed since its index was built, the index is
        rebuilt from every stored document now; returns how many records that took
        (0 when the built index still fits). See `sagebox.store.document_index`.
        """
        return self._index.declare(kind, paths)

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
            self._db,
            kinds,
            where,
            sort,
            max_results=max_results,
            next_token=next_token,
            index=self._index,
        )

    def query_and_count(
        self,
        kinds: Sequence[str],
        where: Expression | None = None,
        sort: Sort | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        count_limit: int = 1_000,
    ) -> tuple[list[ResourceRecord], str | None, int]:
        """`query` and `count` (up to ``count_limit``) in one read, so that they agree."""
        records, token, total = query_and_count(
            self._db,
            kinds,
            where,
            sort,
            max_results=max_results,
            next_token=next_token,
            count_limit=count_limit,
            index=self._index,
        )
        return records, token, total or 0

    def count(
        self, kinds: Sequence[str], where: Expression | None = None, limit: int | None = None
    ) -> int:
        """How many records of any of ``kinds`` satisfy ``where``; at most ``limit`` if given."""
        return count_resources(self._db, kinds, where, limit=limit, index=self._index)

    @property
    def tags(self) -> TagRepository:
        return self._tags

    @property
    def associations(self) -> AssociationRepository:
        """Lineage associations (edges between ARNs), walkable in both directions."""
        return self._associations

    @property
    def metric_points(self) -> MetricPointRepository:
        return self._metric_points

    @property
    def metrics(self) -> MetricRepository:
        """CloudWatch metric data (series and their data points), expired by age."""
        return self._metrics

    @property
    def leases(self) -> LeaseRepository:
        """Which server drives each resource's background work (`sagebox.store.leases`)."""
        return self._leases

    def close(self) -> None:
        self._db.close()
