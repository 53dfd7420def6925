"""Initial schema: snapshots with brokers, topics and groups; topic series; samples; job runs.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cluster", sa.String(255), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_seconds", sa.Integer, nullable=False),
        sa.Column("rack_aware_fetch", sa.Boolean, nullable=False),
        sa.Column("catalog", sa.String(255), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("cluster", "taken_at", name="uq_snapshot_cluster_window"),
    )
    op.create_table(
        "snapshot_brokers",
        sa.Column("snapshot_id", sa.Integer,
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("broker_id", sa.Integer, nullable=False),
        sa.Column("rack", sa.String(255)),
        sa.Column("instance_type", sa.String(255), nullable=False),
        sa.Column("disk_capacity_bytes", sa.BigInteger, nullable=False),
        sa.Column("disk_used_bytes", sa.BigInteger),
        sa.Column("cpu_utilisation", sa.Float),
        sa.Column("partition_replicas", sa.Integer),
        sa.Column("provisioned_throughput_mibps", sa.Float),
    )
    op.create_index("ix_snapshot_brokers_snapshot", "snapshot_brokers", ["snapshot_id"])
    op.create_table(
        "snapshot_topics",
        sa.Column("snapshot_id", sa.Integer,
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("partitions", sa.Integer, nullable=False),
        sa.Column("replication_factor", sa.Integer, nullable=False),
        sa.Column("retention_ms", sa.BigInteger, nullable=False),
        sa.Column("retention_bytes", sa.BigInteger, nullable=False),
        sa.Column("cleanup_policy", sa.String(64), nullable=False),
        sa.Column("compression_type", sa.String(32), nullable=False),
        sa.Column("min_insync_replicas", sa.Integer, nullable=False),
        sa.Column("remote_storage_enable", sa.Boolean, nullable=False),
        sa.Column("local_retention_ms", sa.BigInteger, nullable=False),
        sa.Column("segment_bytes", sa.BigInteger, nullable=False),
        sa.Column("bytes_in_per_second", sa.Float, nullable=False),
        sa.Column("bytes_out_per_second", sa.Float, nullable=False),
        sa.Column("messages_in_per_second", sa.Float, nullable=False),
        sa.Column("log_size_bytes", sa.BigInteger, nullable=False),
        sa.Column("remote_log_size_bytes", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_snapshot_topics_snapshot", "snapshot_topics", ["snapshot_id"])
    op.create_table(
        "snapshot_groups",
        sa.Column("snapshot_id", sa.Integer,
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("topic", sa.String(512), nullable=False),
        sa.Column("lag_messages", sa.BigInteger, nullable=False),
        sa.Column("lag_seconds", sa.Float),
        sa.Column("max_lag_seconds", sa.Float),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("committed_offset_sum", sa.BigInteger),
        sa.Column("bytes_out_per_second", sa.Float),
    )
    op.create_index("ix_snapshot_groups_snapshot", "snapshot_groups", ["snapshot_id"])
    op.create_table(
        "topic_series",
        sa.Column("cluster", sa.String(255), primary_key=True),
        sa.Column("topic", sa.String(512), primary_key=True),
        sa.Column("resolution_seconds", sa.Integer, primary_key=True),
        sa.Column("ts_seconds", sa.BigInteger, primary_key=True),
        sa.Column("bytes_in_per_second", sa.Float, nullable=False),
        sa.Column("bytes_out_per_second", sa.Float, nullable=False),
        sa.Column("messages_in_per_second", sa.Float, nullable=False),
        sa.Column("log_size_bytes", sa.Float, nullable=False),
    )
    op.create_table(
        "sample_records",
        sa.Column("cluster", sa.String(255), primary_key=True),
        sa.Column("topic", sa.String(512), primary_key=True),
        sa.Column("payloads", sa.JSON, nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cluster", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_job_runs_started", "job_runs", ["started_at"])


def downgrade() -> None:
    for index, table in (("ix_job_runs_started", "job_runs"),
                         ("ix_snapshot_groups_snapshot", "snapshot_groups"),
                         ("ix_snapshot_topics_snapshot", "snapshot_topics"),
                         ("ix_snapshot_brokers_snapshot", "snapshot_brokers")):
        op.drop_index(index, table_name=table)
    for table in ("job_runs", "sample_records", "topic_series", "snapshot_groups",
                  "snapshot_topics", "snapshot_brokers", "snapshots"):
        op.drop_table(table)
