"""Metadata persistence: SQLAlchemy over SQLite (default) or PostgreSQL."""

from sagebox.store.errors import AlreadyExists, InvalidNextToken, NotFound, StoreError
from sagebox.store.metadata_store import MetadataStore
from sagebox.store.resources import ResourceRecord, ResourceRepository
from sagebox.store.tags import TagRepository

__all__ = [
    "AlreadyExists",
    "InvalidNextToken",
    "MetadataStore",
    "NotFound",
    "ResourceRecord",
    "ResourceRepository",
    "StoreError",
    "TagRepository",
]
