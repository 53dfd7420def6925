"""Each topic's measured in-zone reads (KIP-392): the bytes/s its consumers read from the
replica in their own zone, from bytes out per broker against the partitions' leaders. NULL:
not measured (the cluster's rack-aware setting then decides, by formula).

Revision ID: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_topics") as batch:
        batch.add_column(sa.Column("rack_aware_read_bytes_per_second", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("snapshot_topics") as batch:
        batch.drop_column("rack_aware_read_bytes_per_second")
