"""Recommendation status (accept/dismiss/snooze, persisted) and archived reports.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation_status",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("cluster", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True)),
        sa.Column("evidence_fingerprint", sa.String(32), nullable=False),
        sa.Column("monthly_savings", sa.String(32), nullable=False),
        sa.Column("cost_before_micros", sa.BigInteger),
        sa.Column("recommendation", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index("ix_reports_created", "reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_created", table_name="reports")
    op.drop_table("reports")
    op.drop_table("recommendation_status")
