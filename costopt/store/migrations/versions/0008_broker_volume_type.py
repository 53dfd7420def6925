"""Each broker's volume type (gp3, st1, sc1, ...): disks of one cluster may be priced apart.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_brokers") as batch:
        batch.add_column(sa.Column("volume_type", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("snapshot_brokers") as batch:
        batch.drop_column("volume_type")
