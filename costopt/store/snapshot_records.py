"""Where snapshots are kept: a cluster's brokers, topics, consumer groups and principals at
a time, each write one transaction (with its series and samples) and idempotent per window."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from costopt.snapshot.cluster_snapshot import (
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    PrincipalTraffic,
    Topic,
)
from costopt.store import schema
from costopt.store.database import NothingStored, RefusedData, _insert_many, _utc
from costopt.store.sample_records import estimate_row
from costopt.store.series_records import SERIES_COLUMNS, SeriesRecords


@dataclass(frozen=True)
class StoredSnapshot:
    id: int
    snapshot: ClusterSnapshot
    catalog: str | None
    source: str


class SnapshotRecords(SeriesRecords):
    """Snapshots, and the consumer groups' history over them. A snapshot is written with its
    series, so this part stands on `SeriesRecords`."""

    def save_snapshot(self, snapshot: ClusterSnapshot, *, catalog: str | None, source: str,
                      series: pd.DataFrame | None = None,
                      samples: dict[str, list[bytes]] | None = None) -> int:
        """Store a snapshot with its series (and sampled records) in one transaction."""
        _check_finite(snapshot, series)
        taken_at = _utc(snapshot.taken_at)
        with self.transaction() as connection:
            connection.execute(delete(schema.snapshots).where(
                schema.snapshots.c.cluster == snapshot.cluster,
                schema.snapshots.c.taken_at == taken_at))
            inserted = connection.execute(insert(schema.snapshots).values(
                cluster=snapshot.cluster, taken_at=taken_at,
                window_seconds=snapshot.window_seconds,
                rack_aware_fetch=snapshot.rack_aware_fetch, catalog=catalog, source=source,
                labels=dict(snapshot.labels), stored_at=datetime.now(UTC),
            )).inserted_primary_key
            assert inserted is not None
            snapshot_id = int(inserted[0])
            _insert_many(connection, schema.snapshot_brokers, (
                {"snapshot_id": snapshot_id, "broker_id": b.broker_id, "rack": b.rack,
                 "instance_type": b.instance_type, "disk_capacity_bytes": b.disk_capacity_bytes,
                 "disk_used_bytes": b.disk_used_bytes, "cpu_utilisation": b.cpu_utilisation,
                 "partition_replicas": b.partition_replicas,
                 "provisioned_throughput_mibps": b.provisioned_throughput_mibps,
                 "volume_type": b.volume_type}
                for b in snapshot.brokers))
            _insert_many(connection, schema.snapshot_topics, (
                {"snapshot_id": snapshot_id, **_topic_row(t)} for t in snapshot.topics))
            _insert_many(connection, schema.snapshot_groups, (
                {"snapshot_id": snapshot_id, "group_name": g.group, "topic": g.topic,
                 "lag_messages": g.lag_messages, "lag_seconds": g.lag_seconds,
                 "max_lag_seconds": g.max_lag_seconds, "members": g.members, "state": g.state,
                 "committed_offset_sum": g.committed_offset_sum,
                 "bytes_out_per_second": g.bytes_out_per_second,
                 "last_commit_at": _utc(g.last_commit_at) if g.last_commit_at else None}
                for g in snapshot.groups))
            _insert_many(connection, schema.snapshot_principals, (
                {"snapshot_id": snapshot_id, "principal_id": p.principal_id, "topic": p.topic,
                 "bytes_in_per_second": p.bytes_in_per_second,
                 "bytes_out_per_second": p.bytes_out_per_second,
                 "display_name": p.display_name}
                for p in snapshot.principals))
            if series is not None and not series.empty:
                self._replace_series(connection, snapshot.cluster, series)
            for topic, payloads in (samples or {}).items():
                connection.execute(delete(schema.sample_records).where(
                    schema.sample_records.c.cluster == snapshot.cluster,
                    schema.sample_records.c.topic == topic))
                connection.execute(insert(schema.sample_records).values(
                    cluster=snapshot.cluster, topic=topic, sampled_at=taken_at,
                    payloads=[base64.b64encode(p).decode() for p in payloads],
                    estimate=estimate_row(payloads)))
        return snapshot_id

    def clusters(self) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.snapshots.c.cluster).distinct()
                                      .order_by(schema.snapshots.c.cluster))
            return [row[0] for row in rows]

    def latest_snapshot(self, cluster: str) -> StoredSnapshot:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(schema.snapshots).where(schema.snapshots.c.cluster == cluster)
                .order_by(schema.snapshots.c.taken_at.desc()).limit(1)).mappings().first()
            if row is None:
                raise NothingStored(f"no snapshot stored for cluster {cluster!r}")
            return _load(connection, row)

    def latest_groups(self, cluster: str) -> tuple[ConsumerGroup, ...]:
        """The consumer groups of the cluster's latest snapshot (what the next collect carries
        commit times from), without loading its topics."""
        snapshot_id = self.latest_snapshot_id(cluster)
        if snapshot_id is None:
            return ()
        with self.engine.connect() as connection:
            return _groups_of(connection, snapshot_id)

    def snapshot(self, snapshot_id: int) -> StoredSnapshot:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.snapshots).where(
                schema.snapshots.c.id == snapshot_id)).mappings().first()
            if row is None:
                raise NothingStored(f"no snapshot with id {snapshot_id}")
            return _load(connection, row)

    def latest_snapshot_id(self, cluster: str) -> int | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(schema.snapshots.c.id).where(schema.snapshots.c.cluster == cluster)
                .order_by(schema.snapshots.c.taken_at.desc()).limit(1)).scalar()
        return None if value is None else int(value)

    def topic_count(self, snapshot_id: int) -> int:
        """How many topics the snapshot holds (a cluster's size, before reading it)."""
        with self.engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(schema.snapshot_topics)
                .where(schema.snapshot_topics.c.snapshot_id == snapshot_id)).scalar() or 0)

    def latest_snapshots(self) -> list[StoredSnapshot]:
        return [self.latest_snapshot(cluster) for cluster in self.clusters()]

    def snapshot_count(self, cluster: str | None = None, *, since: datetime | None = None,
                       until: datetime | None = None) -> int:
        """Snapshots stored (of `cluster`, taken in [since, until] where given)."""
        query = select(func.count()).select_from(schema.snapshots)
        if cluster is not None:
            query = query.where(schema.snapshots.c.cluster == cluster)
        if since is not None:
            query = query.where(schema.snapshots.c.taken_at >= _utc(since))
        if until is not None:
            query = query.where(schema.snapshots.c.taken_at <= _utc(until))
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def last_snapshot_time(self, cluster: str) -> datetime | None:
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(schema.snapshots.c.taken_at)).where(
                schema.snapshots.c.cluster == cluster)).scalar()
        return None if value is None else _utc(value)

    def group_history(self, cluster: str, since: datetime | None = None) -> pd.DataFrame:
        """Per consumer group and topic, over the snapshots since `since`: the largest time
        lag seen, the last commit, the most members, the first and last time it was seen.
        This is what "a reader" rests on: a batch job's group is Empty between runs."""
        groups, snapshots = schema.snapshot_groups, schema.snapshots
        query = (select(groups.c.group_name, groups.c.topic,
                        func.max(func.coalesce(groups.c.max_lag_seconds,
                                               groups.c.lag_seconds)).label("max_lag_seconds"),
                        func.max(groups.c.last_commit_at).label("last_commit_at"),
                        func.max(groups.c.members).label("max_members"),
                        func.min(snapshots.c.taken_at).label("first_seen"),
                        func.max(snapshots.c.taken_at).label("last_seen"))
                 .join(snapshots, snapshots.c.id == groups.c.snapshot_id)
                 .where(snapshots.c.cluster == cluster)
                 .group_by(groups.c.group_name, groups.c.topic))
        if since is not None:
            query = query.where(snapshots.c.taken_at >= _utc(since))
        with self.engine.connect() as connection:
            # Plain tuples: pandas probes a Row for namedtuple fields, a raised KeyError per row.
            rows = list(map(tuple, connection.execute(query)))
        frame = pd.DataFrame(rows, columns=["group", "topic", "max_lag_seconds",
                                            "last_commit_at", "max_members", "first_seen",
                                            "last_seen"])
        for column in ("last_commit_at", "first_seen", "last_seen"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def snapshot_span(self, cluster: str) -> tuple[datetime, datetime] | None:
        """From the start of the first stored snapshot's window to the last snapshot."""
        snapshots = schema.snapshots
        with self.engine.connect() as connection:
            row = connection.execute(select(
                func.min(snapshots.c.taken_at), func.max(snapshots.c.taken_at),
                func.max(snapshots.c.window_seconds)).where(
                snapshots.c.cluster == cluster)).one()
        if row[0] is None:
            return None
        return _utc(row[0]) - timedelta(seconds=int(row[2] or 0)), _utc(row[1])


def _check_finite(snapshot: ClusterSnapshot, series: pd.DataFrame | None) -> None:
    """NaN and infinity are refused, not stored: PostgreSQL would keep them and SQLite would
    turn them into NULL, and either way every figure computed from them is wrong."""
    import math

    for topic in snapshot.topics:
        for name in ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"):
            if not math.isfinite(getattr(topic, name)):
                raise RefusedData(f"cluster {snapshot.cluster}: topic {topic.name!r} has a "
                                 f"non-finite {name}; nothing was stored")
    for principal in snapshot.principals:
        for name in ("bytes_in_per_second", "bytes_out_per_second"):
            value = getattr(principal, name)
            if not math.isfinite(value) or value < 0:
                raise RefusedData(f"cluster {snapshot.cluster}: principal "
                                 f"{principal.principal_id!r} has {name} {value!r} (a rate is "
                                 "finite and not negative); nothing was stored")
    if series is not None and not series.empty:
        values = series[list(SERIES_COLUMNS)].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise RefusedData(f"cluster {snapshot.cluster}: series of topic "
                             f"{series['topic'].iloc[row]!r} holds NaN or infinity; "
                             "nothing was stored")


def _topic_row(topic: Topic) -> dict[str, Any]:
    return {
        "name": topic.name, "partitions": topic.partitions,
        "replication_factor": topic.replication_factor, "retention_ms": topic.retention_ms,
        "retention_bytes": topic.retention_bytes, "cleanup_policy": topic.cleanup_policy,
        "compression_type": topic.compression_type,
        "min_insync_replicas": topic.min_insync_replicas,
        "remote_storage_enable": topic.remote_storage_enable,
        "local_retention_ms": topic.local_retention_ms, "segment_bytes": topic.segment_bytes,
        "bytes_in_per_second": topic.bytes_in_per_second,
        "bytes_out_per_second": topic.bytes_out_per_second,
        "messages_in_per_second": topic.messages_in_per_second,
        "log_size_bytes": topic.log_size_bytes,
        "remote_log_size_bytes": topic.remote_log_size_bytes,
        "rack_aware_read_bytes_per_second": topic.rack_aware_read_bytes_per_second,
    }


def _load(connection: Connection, row: Any) -> StoredSnapshot:
    snapshot_id = row["id"]
    brokers = tuple(
        Broker(broker_id=b["broker_id"], rack=b["rack"], instance_type=b["instance_type"],
               disk_capacity_bytes=b["disk_capacity_bytes"],
               disk_used_bytes=b["disk_used_bytes"], cpu_utilisation=b["cpu_utilisation"],
               partition_replicas=b["partition_replicas"],
               provisioned_throughput_mibps=b["provisioned_throughput_mibps"],
               volume_type=b["volume_type"])
        for b in connection.execute(select(schema.snapshot_brokers).where(
            schema.snapshot_brokers.c.snapshot_id == snapshot_id)
            .order_by(schema.snapshot_brokers.c.broker_id)).mappings())
    # Columns in the order of Topic's fields, each row passed as is: a keyword dict per row
    # was a third of reading a 4,000-topic snapshot.
    topic_columns = [schema.snapshot_topics.c[f.name] for f in fields(Topic)]
    topics = tuple(itertools.starmap(Topic, connection.execute(
        select(*topic_columns).where(schema.snapshot_topics.c.snapshot_id == snapshot_id)
        .order_by(schema.snapshot_topics.c.name))))
    groups = _groups_of(connection, snapshot_id)
    principal_columns = [c for c in schema.snapshot_principals.c if c.name != "snapshot_id"]
    principals = tuple(
        PrincipalTraffic(**dict(p)) for p in connection.execute(
            select(*principal_columns).where(
                schema.snapshot_principals.c.snapshot_id == snapshot_id)
            .order_by(schema.snapshot_principals.c.principal_id,
                      schema.snapshot_principals.c.topic)).mappings())
    snapshot = ClusterSnapshot(
        cluster=row["cluster"], taken_at=_utc(row["taken_at"]),
        window_seconds=row["window_seconds"], brokers=brokers, topics=topics, groups=groups,
        rack_aware_fetch=bool(row["rack_aware_fetch"]), labels=dict(row["labels"] or {}),
        principals=principals)
    return StoredSnapshot(snapshot_id, snapshot, row["catalog"], row["source"])


def _groups_of(connection: Connection, snapshot_id: int) -> tuple[ConsumerGroup, ...]:
    table = schema.snapshot_groups
    rows = connection.execute(select(
        table.c.group_name, table.c.topic, table.c.lag_messages, table.c.lag_seconds,
        table.c.max_lag_seconds, table.c.members, table.c.state, table.c.committed_offset_sum,
        table.c.bytes_out_per_second, table.c.last_commit_at).where(
        table.c.snapshot_id == snapshot_id)).all()
    # The columns are ConsumerGroup's fields in order: each row passed as is, but its time.
    return tuple(
        ConsumerGroup(*g[:9], _utc(g[9]) if g[9] else None)
        for g in rows)
