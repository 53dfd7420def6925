"""Imported bills and their lines (`costopt bill import`, `POST /v1/bills`).

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bills",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("billing_account", sa.String(255), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source_name", sa.String(512), nullable=False),
        sa.Column("source_digest", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("total_micros", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_bills_month", "bills", ["month"])
    op.create_table(
        "bill_lines",
        sa.Column("bill_id", sa.String(32), sa.ForeignKey("bills.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("line_number", sa.Integer, nullable=False),
        sa.Column("cluster", sa.String(255)),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("resource_id", sa.String(1024)),
        sa.Column("amount_micros", sa.BigInteger, nullable=False),
        sa.Column("charge_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charge_end", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bill_lines_bill", "bill_lines", ["bill_id"])


def downgrade() -> None:
    op.drop_index("ix_bill_lines_bill", table_name="bill_lines")
    op.drop_table("bill_lines")
    op.drop_index("ix_bills_month", table_name="bills")
    op.drop_table("bills")
