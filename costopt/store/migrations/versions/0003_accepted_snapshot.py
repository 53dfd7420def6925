"""The snapshot a recommendation was accepted on: realized savings are priced on its traffic.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation_status") as batch:
        batch.add_column(sa.Column("accepted_snapshot_id", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("recommendation_status") as batch:
        batch.drop_column("accepted_snapshot_id")
