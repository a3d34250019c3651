"""The document index: values at declared document paths, for Search to sort and filter.

Three tables (`sagebox.store.tables`): the concrete keys (kind, path, value type),
the numbers and the texts found under them, one row per record and value, indexed
for walks in (value, name) order; and the declaration each kind's index was built
for. Indexes on (kind, creation_time, name) (replacing (kind, creation_time)) and
(kind, last_modified_time, name) give listings and Search's default order without a
sort. The
index is filled by the store when a kind's declaration is first made or changes
(`MetadataStore.declare_document_index`), so this migration only creates tables.

Revision ID: 0004
Revises: 0003
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_VALUE_TABLES = ("document_numbers", "document_texts")
_TIMES = ("creation_time", "last_modified_time")


def _sortable_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.drop_index("ix_resources_kind_creation_time", table_name="resources")
    for column in _TIMES:
        op.create_index(f"ix_resources_kind_{column}_name", "resources", ["kind", column, "name"])
    op.create_table(
        "document_index_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", _sortable_text(), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("value_type", sa.Text, nullable=False),
        sa.UniqueConstraint("kind", "path", "value_type", name="uq_document_index_keys"),
    )
    for table, value_type in zip(_VALUE_TABLES, (sa.Double(), _sortable_text()), strict=True):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("key_id", sa.Integer, nullable=False),
            sa.Column("value", value_type, nullable=False),
            sa.Column("name", _sortable_text(), nullable=False),
            sa.Column("extreme", sa.SmallInteger, nullable=False),
            sa.Column("resource_id", sa.Integer, nullable=False),
        )
        op.create_index(
            f"ix_{table}_walk", table, ["key_id", "value", "name", "extreme", "resource_id"]
        )
        op.create_index(
            f"ix_{table}_resource", table, ["resource_id", "key_id", "value", "extreme"]
        )
    op.create_table(
        "indexed_kinds",
        sa.Column("kind", _sortable_text(), primary_key=True),
        sa.Column("declaration", sa.Text, nullable=False),
        sa.Column("ready", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("indexed_kinds")
    for table in reversed(_VALUE_TABLES):
        op.drop_index(f"ix_{table}_resource", table_name=table)
        op.drop_index(f"ix_{table}_walk", table_name=table)
        op.drop_table(table)
    op.drop_table("document_index_keys")
    for column in reversed(_TIMES):
        op.drop_index(f"ix_resources_kind_{column}_name", table_name="resources")
    op.create_index("ix_resources_kind_creation_time", "resources", ["kind", "creation_time"])
