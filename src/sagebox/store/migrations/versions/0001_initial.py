"""Initial schema: the generic resources table and the tags table.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _sortable_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", _sortable_text(), nullable=False),
        sa.Column("name", _sortable_text(), nullable=False),
        sa.Column("arn", sa.Text, nullable=False),
        sa.Column("status", _sortable_text(), nullable=False),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_arn", sa.Text, nullable=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.UniqueConstraint("kind", "name", name="uq_resources_kind_name"),
        sa.UniqueConstraint("arn", name="uq_resources_arn"),
    )
    op.create_index("ix_resources_kind_status", "resources", ["kind", "status"])
    op.create_index("ix_resources_kind_creation_time", "resources", ["kind", "creation_time"])
    op.create_index("ix_resources_parent_arn", "resources", ["parent_arn"])
    op.create_table(
        "tags",
        sa.Column("arn", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tags")
    op.drop_index("ix_resources_parent_arn", table_name="resources")
    op.drop_index("ix_resources_kind_creation_time", table_name="resources")
    op.drop_index("ix_resources_kind_status", table_name="resources")
    op.drop_table("resources")
