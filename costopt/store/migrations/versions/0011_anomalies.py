"""Cost anomalies (open and resolved) and the notices sent for them: a notice's key is unique,
so of two scheduler replicas (or a restarted one) only the first to insert it delivers it.

Revision ID: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("cluster", sa.String(255)),
        sa.Column("item", sa.String(512), nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("start_day", sa.String(10), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("resolved_on", sa.String(10)),
        sa.Column("expected_monthly_micros", sa.BigInteger, nullable=False),
        sa.Column("observed_monthly_micros", sa.BigInteger, nullable=False),
        sa.Column("impact_monthly_micros", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("driver", sa.JSON, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_anomalies_state_start", "anomalies", ["state", "start_day"])
    op.create_table(
        "anomaly_notices",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("anomaly_id", sa.String(32), sa.ForeignKey("anomalies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("anomaly_notices")
    op.drop_index("ix_anomalies_state_start", table_name="anomalies")
    op.drop_table("anomalies")
