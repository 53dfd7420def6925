"""The audit trail of topic config changes `costopt apply` made or undid.

Revision ID: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_changes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("cluster", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(512), nullable=False),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("after", sa.JSON, nullable=False),
        sa.Column("plan_step", sa.Integer),
        sa.Column("recommendation_id", sa.String(32)),
        sa.Column("applied_by", sa.String(255), nullable=False),
    )
    op.create_index("ix_applied_changes_applied_at", "applied_changes", ["applied_at"])


def downgrade() -> None:
    op.drop_index("ix_applied_changes_applied_at", "applied_changes")
    op.drop_table("applied_changes")
