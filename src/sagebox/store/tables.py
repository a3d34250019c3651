"""Table definitions of the metadata store (SQLAlchemy Core).

The schema itself is created by the Alembic migrations; these definitions must
stay in step with the newest migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


def sortable_text() -> sa.types.TypeEngine[str]:
    """Text compared byte by byte on every backend, so sorting and paging agree.

    PostgreSQL would otherwise compare with the database locale (which, for
    example, ignores hyphens), while SQLite compares bytes.
    """
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def document_json() -> sa.types.TypeEngine[Any]:
    """JSON text on SQLite, ``jsonb`` on PostgreSQL.

    ``jsonb`` is parsed once on write, so queries on members of the document
    (`sagebox.store.query`) need not parse the text of every row again, and it
    can be indexed. It keeps no key order and no duplicate keys, which the
    Python dictionaries a document is read into do not rely on.
    """
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no time zone; give an aware UTC time")
    return value.astimezone(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no offset, so values are converted to UTC before they are
    written, and UTC is attached again when they are read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = to_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData()

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sortable_text(), nullable=False),
    sa.Column("name", sortable_text(), nullable=False),
    sa.Column("arn", sa.Text, nullable=False),
    sa.Column("status", sortable_text(), nullable=False),
    sa.Column("creation_time", UTCDateTime, nullable=False),
    sa.Column("last_modified_time", UTCDateTime, nullable=False),
    sa.Column("parent_arn", sa.Text, nullable=True),
    sa.Column("document", document_json(), nullable=False),
    sa.UniqueConstraint("kind", "name", name="uq_resources_kind_name"),
    sa.UniqueConstraint("arn", name="uq_resources_arn"),
    sa.Index("ix_resources_kind_status", "kind", "status"),
    sa.Index("ix_resources_parent_arn", "parent_arn"),
    # Whole (time, name) keys: listings and queries page in that order without sorting.
    sa.Index("ix_resources_kind_creation_time_name", "kind", "creation_time", "name"),
    sa.Index("ix_resources_kind_last_modified_time_name", "kind", "last_modified_time", "name"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("arn", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

# The points of the metric time series logged to a resource (BatchPutMetrics, a job's
# metrics); the resource's document keeps their summary, written in the same transaction.
metric_points = sa.Table(
    "metric_points",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("resource_arn", sa.Text, nullable=False),
    sa.Column("metric_name", sa.Text, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("step", sa.Integer, nullable=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Index("ix_metric_points_series", "resource_arn", "metric_name", "id"),
)

# The document index (`sagebox.store.document_index`): the values at declared document
# paths, one row per record, concrete path and value, so that sorting and filtering on
# them walk a B-tree instead of parsing every document. ``key_id`` names a concrete path
# and value type of one kind; ``extreme`` marks the record's smallest (1) and largest (2)
# value under that key, which is its sort key in ascending and descending order.
document_index_keys = sa.Table(
    "document_index_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sortable_text(), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("value_type", sa.Text, nullable=False),
    sa.UniqueConstraint("kind", "path", "value_type", name="uq_document_index_keys"),
)


def _index_values(table: str, value_type: sa.types.TypeEngine[Any]) -> sa.Table:
    return sa.Table(
        table,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("value", value_type, nullable=False),
        sa.Column("name", sortable_text(), nullable=False),
        sa.Column("extreme", sa.SmallInteger, nullable=False),
        sa.Column("resource_id", sa.Integer, nullable=False),
        # Walks in (value, name) order read the index alone until a row is kept.
        sa.Index(f"ix_{table}_walk", "key_id", "value", "name", "extreme", "resource_id"),
        sa.Index(f"ix_{table}_resource", "resource_id", "key_id", "value", "extreme"),
    )


document_numbers = _index_values("document_numbers", sa.Double())
document_texts = _index_values("document_texts", sortable_text())

# Which kinds have a built index, for which declaration (its canonical JSON).
indexed_kinds = sa.Table(
    "indexed_kinds",
    metadata,
    sa.Column("kind", sortable_text(), primary_key=True),
    sa.Column("declaration", sa.Text, nullable=False),
    sa.Column("ready", sa.Boolean, nullable=False),
)

# Which server drives a resource's background work (a job's run, a tuning loop) and until
# when (`sagebox.store.leases`): seconds since the epoch by the database's own clock, so
# servers whose clocks disagree still agree on expiry.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("resource_arn", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False),
    sa.Index("ix_leases_owner", "owner"),
)
