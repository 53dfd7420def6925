"""The analysis cache per cluster: each cluster's analysis is kept under its own key (the
cluster's stored state and the settings), so an analyze after one cluster's collect computes
that cluster only and loads the others. It replaces the one-entry-per-fleet cache of 0006,
whose entries a new snapshot of any cluster made useless.

Revision ID: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_analysis_cache",
        sa.Column("cluster", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.drop_table("analysis_cache")


def downgrade() -> None:
    op.create_table(
        "analysis_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.drop_table("cluster_analysis_cache")
