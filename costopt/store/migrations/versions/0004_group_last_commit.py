"""When each group's committed offsets last moved: a group Empty between batch runs still reads.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_groups") as batch:
        batch.add_column(sa.Column("last_commit_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("snapshot_groups") as batch:
        batch.drop_column("last_commit_at")
