"""The metric_points table: the time series behind a trial component's metric summaries.

Revision ID: 0003
Revises: 0002
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "metric_points",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_arn", sa.Text, nullable=False),
        sa.Column("metric_name", sa.Text, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("step", sa.Integer, nullable=True),
        sa.Column("value", sa.Double, nullable=False),
    )
    op.create_index(
        "ix_metric_points_series", "metric_points", ["resource_arn", "metric_name", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_metric_points_series", table_name="metric_points")
    op.drop_table("metric_points")
