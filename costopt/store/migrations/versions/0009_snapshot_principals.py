"""Bytes per authenticated principal (Confluent Cloud's service accounts) with each snapshot:
what splits a topic's producer and consumer cost among the services that write and read it.

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshot_principals",
        sa.Column("snapshot_id", sa.Integer,
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("principal_id", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(512)),
        sa.Column("bytes_in_per_second", sa.Float, nullable=False),
        sa.Column("bytes_out_per_second", sa.Float, nullable=False),
        sa.Column("display_name", sa.String(512)),
    )
    op.create_index("ix_snapshot_principals_snapshot", "snapshot_principals", ["snapshot_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_principals_snapshot", table_name="snapshot_principals")
    op.drop_table("snapshot_principals")
