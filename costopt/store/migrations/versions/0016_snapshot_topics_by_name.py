"""Each snapshot's topics indexed by (snapshot, name), in place of by snapshot only: measured
reads join every group row of a window's snapshots to its topic's rates at that snapshot
(`costopt.store.offsets.group_offsets`), which without it scans all of a snapshot's topics
per group row on SQLite. The new index serves every lookup by snapshot the old one did, and
gives a snapshot's topics in name order (`_load`) without a sort.

Revision ID: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_snapshot_topics_snapshot_name", "snapshot_topics",
                    ["snapshot_id", "name"])
    op.drop_index("ix_snapshot_topics_snapshot", table_name="snapshot_topics")


def downgrade() -> None:
    op.create_index("ix_snapshot_topics_snapshot", "snapshot_topics", ["snapshot_id"])
    op.drop_index("ix_snapshot_topics_snapshot_name", table_name="snapshot_topics")
