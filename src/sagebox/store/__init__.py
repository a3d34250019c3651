"""Metadata persistence: SQLAlchemy over SQLite (default) or PostgreSQL."""

from sagebox.store.errors import AlreadyExists, InvalidNextToken, NotFound, QueryError, StoreError
from sagebox.store.index_paths import ANY_MEMBER, ByField, IndexedPath
from sagebox.store.leases import Lease, LeaseRepository
from sagebox.store.metadata_store import MetadataStore
from sagebox.store.metric_points import MetricPoint, MetricPointRepository, PointsAppend
from sagebox.store.query import (
    EACH,
    AllOf,
    AnyElement,
    AnyOf,
    ColumnSort,
    Condition,
    DocumentSort,
    Match,
    Operator,
    SortOrder,
    TagCondition,
)
from sagebox.store.resources import ResourceRecord, ResourceRepository
from sagebox.store.tags import TagRepository

__all__ = [
    "ANY_MEMBER",
    "EACH",
    "AllOf",
    "AlreadyExists",
    "AnyElement",
    "AnyOf",
    "ByField",
    "ColumnSort",
    "Condition",
    "DocumentSort",
    "IndexedPath",
    "InvalidNextToken",
    "Lease",
    "LeaseRepository",
    "Match",
    "MetadataStore",
    "MetricPoint",
    "MetricPointRepository",
    "NotFound",
    "Operator",
    "PointsAppend",
    "QueryError",
    "ResourceRecord",
    "ResourceRepository",
    "SortOrder",
    "StoreError",
    "TagCondition",
    "TagRepository",
]
