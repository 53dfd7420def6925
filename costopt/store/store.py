"""costopt's store: SQLite by default, PostgreSQL by URL, schema managed by Alembic.

Every write of a snapshot is one transaction and idempotent per (cluster, window): writing the
same window again replaces it whole, so a re-run never duplicates or half-writes.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select

from costopt.snapshot.model import Broker, ClusterSnapshot, ConsumerGroup, Topic
from costopt.store import schema

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERIES_COLUMNS = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                  "log_size_bytes")


class StoreError(RuntimeError):
    """The store cannot be reached or holds nothing for what was asked."""


def epoch_seconds(timestamps: pd.Series) -> Any:
    """Unix seconds of timestamps, whatever unit pandas holds them in (ns, us, s)."""
    utc = pd.to_datetime(timestamps, utc=True)
    return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class StoredSnapshot:
    id: int
    snapshot: ClusterSnapshot
    catalog: str | None
    source: str


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        # Who starts the job runs recorded through this store ("scheduler", or None): a new
        # scheduler leader closes the runs its dead predecessor left open, and only those.
        self.runner: str | None = None
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and bring the schema to the newest migration."""
        store = cls(url)
        store.migrate("head")
        return store

    def _alembic(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def migrate(self, revision: str = "head") -> None:
        with self.engine.begin() as connection:
            command.upgrade(self._alembic(connection), revision)

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            command.downgrade(self._alembic(connection), revision)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # Snapshots -------------------------------------------------------------------------

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
                 "provisioned_throughput_mibps": b.provisioned_throughput_mibps}
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
            if series is not None and not series.empty:
                self._replace_series(connection, snapshot.cluster, series)
            for topic, payloads in (samples or {}).items():
                connection.execute(delete(schema.sample_records).where(
                    schema.sample_records.c.cluster == snapshot.cluster,
                    schema.sample_records.c.topic == topic))
                connection.execute(insert(schema.sample_records).values(
                    cluster=snapshot.cluster, topic=topic, sampled_at=taken_at,
                    payloads=[base64.b64encode(p).decode() for p in payloads]))
        return snapshot_id

    def _replace_series(self, connection: Connection, cluster: str, series: pd.DataFrame) -> None:
        """Replace the covered time range per resolution, so re-collecting a window is a no-op.

        Rows go to the driver's executemany as tuples: at fleet scale (millions of rows) the
        per-row parameter handling of ORM-style inserts dominates everything else.
        """
        table = schema.topic_series
        placeholder = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        columns = ("cluster", "topic", "resolution_seconds", "ts_seconds", *SERIES_COLUMNS)
        statement = (f"INSERT INTO topic_series ({', '.join(columns)}) VALUES "
                     f"({', '.join([placeholder] * len(columns))})")
        for resolution, part in series.groupby("resolution_seconds"):
            seconds = epoch_seconds(part["ts"])
            connection.execute(delete(table).where(
                table.c.cluster == cluster, table.c.resolution_seconds == int(resolution),
                table.c.ts_seconds >= int(seconds.min()),
                table.c.ts_seconds <= int(seconds.max())))
            rows = list(zip([cluster] * len(part), part["topic"].tolist(),
                            [int(resolution)] * len(part), seconds.tolist(),
                            *(part[name].astype(float).tolist() for name in SERIES_COLUMNS),
                            strict=True))
            for start in range(0, len(rows), 50_000):
                connection.exec_driver_sql(statement, rows[start:start + 50_000])

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
                raise StoreError(f"no snapshot stored for cluster {cluster!r}")
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
                raise StoreError(f"no snapshot with id {snapshot_id}")
            return _load(connection, row)

    def latest_snapshot_id(self, cluster: str) -> int | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(schema.snapshots.c.id).where(schema.snapshots.c.cluster == cluster)
                .order_by(schema.snapshots.c.taken_at.desc()).limit(1)).scalar()
        return None if value is None else int(value)

    def latest_snapshots(self) -> list[StoredSnapshot]:
        return [self.latest_snapshot(cluster) for cluster in self.clusters()]

    def snapshot_count(self, cluster: str | None = None) -> int:
        query = select(func.count()).select_from(schema.snapshots)
        if cluster is not None:
            query = query.where(schema.snapshots.c.cluster == cluster)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def last_series_time(self, cluster: str) -> datetime | None:
        """The newest hourly point stored for the cluster: where an incremental collect starts."""
        table = schema.topic_series
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(table.c.ts_seconds)).where(
                table.c.cluster == cluster, table.c.resolution_seconds == 3600)).scalar()
        return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)

    def last_snapshot_time(self, cluster: str) -> datetime | None:
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(schema.snapshots.c.taken_at)).where(
                schema.snapshots.c.cluster == cluster)).scalar()
        return None if value is None else _utc(value)

    def series(self, cluster: str, topic: str | None = None,
               resolution_seconds: int | None = None) -> pd.DataFrame:
        """Stored series as a frame with `ts` as UTC timestamps, ordered by topic and time."""
        table = schema.topic_series
        query = select(table.c.topic, table.c.resolution_seconds, table.c.ts_seconds,
                       *(table.c[name] for name in SERIES_COLUMNS)).where(
            table.c.cluster == cluster)
        if topic is not None:
            query = query.where(table.c.topic == topic)
        if resolution_seconds is not None:
            query = query.where(table.c.resolution_seconds == resolution_seconds)
        names = ["topic", "resolution_seconds", "ts_seconds", *SERIES_COLUMNS]
        frame = pd.DataFrame(self._fetch_tuples(query.order_by(table.c.topic, table.c.ts_seconds)),
                             columns=names)
        frame.insert(2, "ts", pd.to_datetime(frame.pop("ts_seconds").astype("int64"), unit="s",
                                              utc=True))
        frame.insert(0, "cluster", cluster)
        return frame

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
            rows = connection.execute(query).all()
        frame = pd.DataFrame(rows, columns=["group", "topic", "max_lag_seconds",
                                            "last_commit_at", "max_members", "first_seen",
                                            "last_seen"])
        for column in ("last_commit_at", "first_seen", "last_seen"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def series_totals(self, cluster: str) -> pd.DataFrame:
        """Cluster totals of each series per stored time and resolution (what percentiles of
        the whole cluster's load are taken over), summed by the database."""
        table = schema.topic_series
        query = (select(table.c.resolution_seconds, table.c.ts_seconds,
                        *(func.sum(table.c[name]).label(name) for name in SERIES_COLUMNS))
                 .where(table.c.cluster == cluster)
                 .group_by(table.c.resolution_seconds, table.c.ts_seconds)
                 .order_by(table.c.resolution_seconds, table.c.ts_seconds))
        frame = pd.DataFrame(self._fetch_tuples(query),
                             columns=["resolution_seconds", "ts_seconds", *SERIES_COLUMNS])
        frame.insert(1, "ts", pd.to_datetime(frame.pop("ts_seconds").astype("int64"), unit="s",
                                              utc=True))
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

    def series_peaks(self, cluster: str) -> pd.DataFrame:
        """Per topic, the largest value of each series at any resolution, computed by the
        database: the idle and hot-partition rules need only these, not millions of points."""
        table = schema.topic_series
        query = (select(table.c.topic,
                        *(func.max(table.c[name]).label(name) for name in SERIES_COLUMNS),
                        func.min(table.c.ts_seconds).label("first_seconds"),
                        func.max(table.c.ts_seconds).label("last_seconds"))
                 .where(table.c.cluster == cluster).group_by(table.c.topic))
        return pd.DataFrame(
            self._fetch_tuples(query),
            columns=["topic", *SERIES_COLUMNS, "first_seconds", "last_seconds"]
        ).set_index("topic")

    def _fetch_tuples(self, query: Any) -> list[tuple[Any, ...]]:
        """Plain tuples from the driver: pandas probes SQLAlchemy rows attribute by attribute,
        which costs more than the query itself on millions of rows."""
        with self.engine.connect() as connection:
            compiled = query.compile(dialect=self.engine.dialect)
            params = compiled.params
            positional = [params[name] for name in compiled.positiontup or []]
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled), positional if positional else params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def samples(self, cluster: str, topic: str) -> list[bytes]:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.sample_records.c.payloads).where(
                schema.sample_records.c.cluster == cluster,
                schema.sample_records.c.topic == topic)).first()
        return [base64.b64decode(p) for p in row[0]] if row else []

    def sampled_topics(self, cluster: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.sample_records.c.topic).where(
                schema.sample_records.c.cluster == cluster))
            return [row[0] for row in rows]

    # Job runs --------------------------------------------------------------------------

    def start_job(self, kind: str, cluster: str | None = None,
                  detail: dict[str, Any] | None = None, status: str = "running") -> str:
        job_id = uuid.uuid4().hex
        detail = dict(detail or {})
        if self.runner is not None:
            detail["runner"] = self.runner
        with self.transaction() as connection:
            connection.execute(insert(schema.job_runs).values(
                id=job_id, kind=kind, cluster=cluster, status=status,
                started_at=datetime.now(UTC), detail=detail))
        return job_id

    def interrupt_jobs(self, runner: str, reason: str) -> list[str]:
        """Mark as failed the runs `runner` left queued or running (its process died), so
        none shows as running forever; returns their ids."""
        with self.transaction() as connection:
            rows = connection.execute(select(schema.job_runs.c.id, schema.job_runs.c.detail)
                                      .where(schema.job_runs.c.status.in_(("queued",
                                                                           "running"))))
            ids = [row.id for row in rows if (row.detail or {}).get("runner") == runner]
            if ids:
                connection.execute(schema.job_runs.update().where(
                    schema.job_runs.c.id.in_(ids)).values(
                    status="failed", finished_at=datetime.now(UTC),
                    error=f"interrupted: {reason}"))
        return ids

    def mark_job_running(self, job_id: str) -> None:
        with self.transaction() as connection:
            connection.execute(schema.job_runs.update().where(schema.job_runs.c.id == job_id)
                               .values(status="running"))

    def finish_job(self, job_id: str, status: str, error: str | None = None,
                   detail: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": datetime.now(UTC),
                                  "error": error}
        if detail is not None:
            values["detail"] = detail
        with self.transaction() as connection:
            connection.execute(schema.job_runs.update()
                               .where(schema.job_runs.c.id == job_id).values(**values))

    def jobs(self, limit: int = 50, kind: str | None = None) -> list[dict[str, Any]]:
        query = select(schema.job_runs).order_by(schema.job_runs.c.started_at.desc())
        if kind is not None:
            query = query.where(schema.job_runs.c.kind == kind)
        with self.engine.connect() as connection:
            return [_job_record(row) for row in connection.execute(query.limit(limit)).mappings()]

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.job_runs).where(
                schema.job_runs.c.id == job_id)).mappings().first()
            return _job_record(row) if row else None


def _job_record(row: Any) -> dict[str, Any]:
    record = dict(row)
    for key in ("started_at", "finished_at"):
        if record[key] is not None:
            record[key] = _utc(record[key])
    return record


def _check_finite(snapshot: ClusterSnapshot, series: pd.DataFrame | None) -> None:
    """NaN and infinity are refused, not stored: PostgreSQL would keep them and SQLite would
    turn them into NULL, and either way every figure computed from them is wrong."""
    import math

    for topic in snapshot.topics:
        for name in ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"):
            if not math.isfinite(getattr(topic, name)):
                raise StoreError(f"cluster {snapshot.cluster}: topic {topic.name!r} has a "
                                 f"non-finite {name}; nothing was stored")
    if series is not None and not series.empty:
        values = series[list(SERIES_COLUMNS)].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise StoreError(f"cluster {snapshot.cluster}: series of topic "
                             f"{series['topic'].iloc[row]!r} holds NaN or infinity; "
                             "nothing was stored")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _insert_many(connection: Connection, table: Any, rows: Iterable[dict[str, Any]],
                 chunk: int = 20_000) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


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
    }


def _load(connection: Connection, row: Any) -> StoredSnapshot:
    snapshot_id = row["id"]
    brokers = tuple(
        Broker(broker_id=b["broker_id"], rack=b["rack"], instance_type=b["instance_type"],
               disk_capacity_bytes=b["disk_capacity_bytes"],
               disk_used_bytes=b["disk_used_bytes"], cpu_utilisation=b["cpu_utilisation"],
               partition_replicas=b["partition_replicas"],
               provisioned_throughput_mibps=b["provisioned_throughput_mibps"])
        for b in connection.execute(select(schema.snapshot_brokers).where(
            schema.snapshot_brokers.c.snapshot_id == snapshot_id)
            .order_by(schema.snapshot_brokers.c.broker_id)).mappings())
    topic_columns = [c for c in schema.snapshot_topics.c if c.name != "snapshot_id"]
    topics = tuple(
        Topic(**dict(t)) for t in connection.execute(
            select(*topic_columns).where(schema.snapshot_topics.c.snapshot_id == snapshot_id)
            .order_by(schema.snapshot_topics.c.name)).mappings())
    groups = _groups_of(connection, snapshot_id)
    snapshot = ClusterSnapshot(
        cluster=row["cluster"], taken_at=_utc(row["taken_at"]),
        window_seconds=row["window_seconds"], brokers=brokers, topics=topics, groups=groups,
        rack_aware_fetch=bool(row["rack_aware_fetch"]), labels=dict(row["labels"] or {}))
    return StoredSnapshot(snapshot_id, snapshot, row["catalog"], row["source"])


def _groups_of(connection: Connection, snapshot_id: int) -> tuple[ConsumerGroup, ...]:
    return tuple(
        ConsumerGroup(group=g["group_name"], topic=g["topic"], lag_messages=g["lag_messages"],
                      lag_seconds=g["lag_seconds"], max_lag_seconds=g["max_lag_seconds"],
                      members=g["members"], state=g["state"],
                      committed_offset_sum=g["committed_offset_sum"],
                      bytes_out_per_second=g["bytes_out_per_second"],
                      last_commit_at=_utc(g["last_commit_at"]) if g["last_commit_at"] else None)
        for g in connection.execute(select(schema.snapshot_groups).where(
            schema.snapshot_groups.c.snapshot_id == snapshot_id)).mappings())


class StatusStore:
    """Recommendation decisions and archived reports (kept beside the snapshots)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def set_status(self, recommendation: dict[str, Any], status: str, reason: str,
                   fingerprint: str, snoozed_until: datetime | None = None,
                   cost_before_micros: int | None = None,
                   snapshot_id: int | None = None) -> None:
        table = schema.recommendation_status
        with self.store.transaction() as connection:
            connection.execute(delete(table).where(table.c.id == recommendation["id"]))
            connection.execute(insert(table).values(
                id=recommendation["id"], cluster=recommendation["cluster"],
                kind=recommendation["kind"], target=recommendation["target"], status=status,
                reason=reason, snoozed_until=snoozed_until, evidence_fingerprint=fingerprint,
                monthly_savings=recommendation["monthly_savings"],
                cost_before_micros=cost_before_micros, recommendation=recommendation,
                accepted_snapshot_id=snapshot_id, updated_at=datetime.now(UTC)))

    def statuses(self) -> dict[str, dict[str, Any]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(schema.recommendation_status)).mappings()
            out = {}
            for row in rows:
                record = dict(row)
                if record["snoozed_until"] is not None:
                    record["snoozed_until"] = _utc(record["snoozed_until"])
                record["updated_at"] = _utc(record["updated_at"])
                out[record["id"]] = record
            return out

    def save_report(self, title: str, html: str, summary: dict[str, Any]) -> str:
        report_id = uuid.uuid4().hex
        with self.store.transaction() as connection:
            connection.execute(insert(schema.reports).values(
                id=report_id, created_at=datetime.now(UTC), title=title, html=html,
                summary=summary))
        return report_id

    def reports(self, limit: int = 50) -> list[dict[str, Any]]:
        table = schema.reports
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.created_at, table.c.title,
                                             table.c.summary)
                                      .order_by(table.c.created_at.desc()).limit(limit))
            return [{**dict(row._mapping), "created_at": _utc(row.created_at)} for row in rows]

    def report_html(self, report_id: str) -> str | None:
        with self.store.engine.connect() as connection:
            row = connection.execute(select(schema.reports.c.html).where(
                schema.reports.c.id == report_id)).first()
            return None if row is None else str(row[0])
