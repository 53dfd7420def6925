"""The store's tables (SQLAlchemy Core). Alembic migrations under `migrations/` create them;
this module is the single description the code reads and writes through."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

snapshots = Table(
    "snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cluster", String(255), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("window_seconds", Integer, nullable=False),
    Column("rack_aware_fetch", Boolean, nullable=False, default=False),
    Column("catalog", String(255), nullable=True),
    Column("source", String(32), nullable=False),
    Column("labels", JSON, nullable=False, default=dict),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("cluster", "taken_at", name="uq_snapshot_cluster_window"),
)

snapshot_brokers = Table(
    "snapshot_brokers", metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"),
           nullable=False),
    Column("broker_id", Integer, nullable=False),
    Column("rack", String(255)),
    Column("instance_type", String(255), nullable=False),
    Column("disk_capacity_bytes", BigInteger, nullable=False),
    Column("disk_used_bytes", BigInteger),
    Column("cpu_utilisation", Float),
    Column("partition_replicas", Integer),
    Column("provisioned_throughput_mibps", Float),
    Column("volume_type", String(64)),
    Index("ix_snapshot_brokers_snapshot", "snapshot_id"),
)

snapshot_topics = Table(
    "snapshot_topics", metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"),
           nullable=False),
    Column("name", String(512), nullable=False),
    Column("partitions", Integer, nullable=False),
    Column("replication_factor", Integer, nullable=False),
    Column("retention_ms", BigInteger, nullable=False),
    Column("retention_bytes", BigInteger, nullable=False),
    Column("cleanup_policy", String(64), nullable=False),
    Column("compression_type", String(32), nullable=False),
    Column("min_insync_replicas", Integer, nullable=False),
    Column("remote_storage_enable", Boolean, nullable=False),
    Column("local_retention_ms", BigInteger, nullable=False),
    Column("segment_bytes", BigInteger, nullable=False),
    Column("bytes_in_per_second", Float, nullable=False),
    Column("bytes_out_per_second", Float, nullable=False),
    Column("messages_in_per_second", Float, nullable=False),
    Column("log_size_bytes", BigInteger, nullable=False),
    Column("remote_log_size_bytes", BigInteger, nullable=False),
    Column("rack_aware_read_bytes_per_second", Float),
    Index("ix_snapshot_topics_snapshot_name", "snapshot_id", "name"),  # migration 0016
)

snapshot_groups = Table(
    "snapshot_groups", metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"),
           nullable=False),
    Column("group_name", String(512), nullable=False),
    Column("topic", String(512), nullable=False),
    Column("lag_messages", BigInteger, nullable=False),
    Column("lag_seconds", Float),
    Column("max_lag_seconds", Float),
    Column("members", Integer, nullable=False),
    Column("state", String(64), nullable=False),
    Column("committed_offset_sum", BigInteger),
    Column("bytes_out_per_second", Float),
    Column("last_commit_at", DateTime(timezone=True)),
    Index("ix_snapshot_groups_snapshot", "snapshot_id"),
)

# Bytes per authenticated principal (Confluent's service accounts): `topic` NULL where the
# source gives the principal's bytes for the whole cluster only.
snapshot_principals = Table(
    "snapshot_principals", metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"),
           nullable=False),
    Column("principal_id", String(255), nullable=False),
    Column("topic", String(512)),
    Column("bytes_in_per_second", Float, nullable=False),
    Column("bytes_out_per_second", Float, nullable=False),
    Column("display_name", String(512)),
    Index("ix_snapshot_principals_snapshot", "snapshot_id"),
)

# Series: one block per cluster, resolution and time holding every topic's values at that time
# (`series_blocks.py`); topic names once per cluster.
series_topics = Table(
    "series_topics", metadata,
    Column("cluster", String(255), primary_key=True),
    Column("topic", String(512), primary_key=True),
    Column("topic_id", Integer, nullable=False),
    UniqueConstraint("cluster", "topic_id", name="uq_series_topic_id"),
)

series_blocks = Table(
    "series_blocks", metadata,
    Column("cluster", String(255), primary_key=True),
    Column("resolution_seconds", Integer, primary_key=True),
    Column("ts_seconds", BigInteger, primary_key=True),  # Unix seconds, UTC: the point's start
    Column("rows", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

sample_records = Table(
    "sample_records", metadata,
    Column("cluster", String(255), primary_key=True),
    Column("topic", String(512), primary_key=True),
    Column("payloads", JSON, nullable=False),  # base64 strings, newest last
    Column("sampled_at", DateTime(timezone=True), nullable=False),
    # The compression measured on the payloads when stored (`sample_records.estimate_row`);
    # NULL when there were no records.
    Column("estimate", JSON(none_as_null=True), nullable=True),
)

job_runs = Table(
    "job_runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("cluster", String(255)),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_job_runs_started", "started_at"),
)

recommendation_status = Table(
    "recommendation_status", metadata,
    Column("id", String(32), primary_key=True),
    Column("cluster", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("target", String(512), nullable=False),
    Column("status", String(16), nullable=False),  # accepted | dismissed | snoozed
    Column("reason", Text, nullable=False),
    Column("snoozed_until", DateTime(timezone=True)),
    Column("evidence_fingerprint", String(32), nullable=False),
    Column("monthly_savings", String(32), nullable=False),  # decimal text, as recommended
    Column("cost_before_micros", BigInteger),  # the target's monthly cost when accepted
    Column("accepted_snapshot_id", BigInteger),  # its traffic prices the realized saving
    Column("recommendation", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

cluster_analysis_cache = Table(
    "cluster_analysis_cache", metadata,
    Column("cluster", String(255), primary_key=True),
    # sha256 of the cluster's stored state (`Store.cluster_state_keys`), settings, version
    Column("key", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # zstd of the pickled ClusterAnalysis
)

reports = Table(
    "reports", metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("title", String(255), nullable=False),
    Column("html", Text, nullable=False),
    Column("summary", JSON, nullable=False),
    Index("ix_reports_created", "created_at"),
)

# Bills: one per provider, billing account and month; importing a newer export of the same
# month replaces it whole, the same file again changes nothing (`source_digest`).
bills = Table(
    "bills", metadata,
    Column("id", String(32), primary_key=True),  # digest of provider, account, month
    Column("provider", String(64), nullable=False),
    Column("billing_account", String(255), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("format", String(16), nullable=False),  # focus | cur | confluent
    Column("currency", String(3), nullable=False),
    Column("source_name", String(512), nullable=False),
    Column("source_digest", String(64), nullable=False),  # sha256 of the file
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("lines", Integer, nullable=False),
    Column("total_micros", BigInteger, nullable=False),
    Index("ix_bills_month", "month"),
)

bill_lines = Table(
    "bill_lines", metadata,
    Column("bill_id", String(32), ForeignKey("bills.id", ondelete="CASCADE"), nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("cluster", String(255)),  # null: not tied to a cluster
    Column("target", String(32), nullable=False),  # component, group of them, or other
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("resource_id", String(1024)),
    Column("amount_micros", BigInteger, nullable=False),
    Column("charge_start", DateTime(timezone=True), nullable=False),
    Column("charge_end", DateTime(timezone=True), nullable=False),
    Index("ix_bill_lines_bill", "bill_id"),
)

anomalies = Table(
    "anomalies", metadata,
    Column("id", String(32), primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("cluster", String(255)),
    Column("item", String(512), nullable=False),
    Column("owner", String(255)),
    Column("state", String(16), nullable=False),
    Column("start_day", String(10), nullable=False),
    Column("last_day", String(10), nullable=False),
    Column("resolved_on", String(10)),
    Column("expected_monthly_micros", BigInteger, nullable=False),
    Column("observed_monthly_micros", BigInteger, nullable=False),
    Column("impact_monthly_micros", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("driver", JSON, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_anomalies_state_start", "state", "start_day"),
)

anomaly_notices = Table(
    "anomaly_notices", metadata,
    Column("key", String(64), primary_key=True),
    Column("anomaly_id", String(32), ForeignKey("anomalies.id", ondelete="CASCADE"),
           nullable=False),
    Column("event", String(16), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# Budgets set over REST (`PUT /v1/budgets/{name}`); those in the config file are not stored.
budgets = Table(
    "budgets", metadata,
    Column("name", String(128), primary_key=True),
    Column("scope", String(16), nullable=False),  # owner | cluster | fleet | topic_pattern
    Column("target", String(512)),  # null for the fleet
    Column("amount_micros", BigInteger, nullable=False),
    Column("currency", String(3)),  # null: the fleet's
    Column("thresholds", JSON, nullable=False),  # shares of the amount, ascending
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Topic config changes costopt applied (`costopt apply`) or undid (`--undo`): the audit trail.
applied_changes = Table(
    "applied_changes", metadata,
    Column("id", String(32), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("action", String(16), nullable=False),  # apply | undo
    Column("cluster", String(255), nullable=False),
    Column("topic", String(512), nullable=False),
    Column("before", JSON, nullable=False),  # config -> value (null: not set)
    Column("after", JSON, nullable=False),
    Column("plan_step", Integer),
    Column("recommendation_id", String(32)),
    Column("applied_by", String(255), nullable=False),  # OS user or API token name
    Index("ix_applied_changes_applied_at", "applied_at"),
)
