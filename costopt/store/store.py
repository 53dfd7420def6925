"""costopt's store: SQLite by default, PostgreSQL by URL, schema managed by Alembic.

Every write of a snapshot is one transaction and idempotent per (cluster, window): writing the
same window again replaces it whole, so a re-run never duplicates or half-writes.
"""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select

from costopt.errors import CostoptError, InvalidInput, NotFound
from costopt.snapshot.model import (
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    PrincipalTraffic,
    Topic,
)
from costopt.store import schema, series_blocks

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERIES_COLUMNS = series_blocks.COLUMNS  # costopt/snapshot/metrics.py


class StoreError(CostoptError):
    """Something about the store: see the subclasses for what."""


class NothingStored(StoreError, NotFound):
    """The store holds no snapshot for what was asked."""


class RefusedData(StoreError, InvalidInput):
    """Data offered to the store that it will not keep (NaN, duplicate points): nothing of
    that write was stored."""


def epoch_seconds(timestamps: pd.Series) -> Any:
    """Unix seconds of timestamps, whatever unit pandas holds them in (ns, us, s)."""
    utc = pd.to_datetime(timestamps, utc=True)
    return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class SeriesHistory:
    daily: pd.DataFrame  # cluster, topic, ts, resolution_seconds, SERIES_COLUMNS
    peaks: pd.DataFrame  # indexed by topic: each series' largest value at any resolution
    totals: pd.DataFrame  # resolution_seconds, ts, the cluster's sums of SERIES_COLUMNS
    span_seconds: float  # from the first stored point to the last


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
                    payloads=[base64.b64encode(p).decode() for p in payloads]))
        return snapshot_id

    def _replace_series(self, connection: Connection, cluster: str, series: pd.DataFrame) -> None:
        """Replace the covered time range per resolution, so re-collecting a window is a no-op:
        every stored time inside it goes, and each time in `series` becomes one block."""
        blocks = schema.series_blocks
        duplicated = series.duplicated(["topic", "resolution_seconds", "ts"])
        if duplicated.any():
            row = series[duplicated].iloc[0]
            raise RefusedData(f"cluster {cluster}: series of topic {row['topic']!r} has two "
                             f"points at {row['ts']} ({int(row['resolution_seconds'])} s); "
                             "nothing was stored")
        ids = self._topic_ids(connection, cluster, series["topic"].unique())
        for resolution, part in series.groupby("resolution_seconds"):
            seconds = epoch_seconds(part["ts"])
            connection.execute(delete(blocks).where(
                blocks.c.cluster == cluster, blocks.c.resolution_seconds == int(resolution),
                blocks.c.ts_seconds >= int(seconds.min()),
                blocks.c.ts_seconds <= int(seconds.max())))
            topic_ids = part["topic"].map(ids).to_numpy(dtype=np.int32)
            values = part[list(SERIES_COLUMNS)].to_numpy(dtype=np.float64)
            order = np.argsort(seconds, kind="stable")
            seconds, topic_ids, values = seconds[order], topic_ids[order], values[order]
            starts = np.flatnonzero(np.r_[True, seconds[1:] != seconds[:-1]])
            ends = np.r_[starts[1:], len(seconds)]
            rows = [{"cluster": cluster, "resolution_seconds": int(resolution),
                     "ts_seconds": int(seconds[a]), "rows": int(b - a),
                     "payload": series_blocks.encode(topic_ids[a:b], values[a:b])}
                    for a, b in zip(starts, ends, strict=True)]
            for first in range(0, len(rows), 500):
                connection.execute(insert(blocks), rows[first:first + 500])

    def _topic_ids(self, connection: Connection, cluster: str, names: Any) -> dict[str, int]:
        """Each topic's id in the cluster's series blocks, new ones numbered after the last."""
        table = schema.series_topics
        known = {row.topic: int(row.topic_id) for row in connection.execute(
            select(table.c.topic, table.c.topic_id).where(table.c.cluster == cluster))}
        new = [str(name) for name in names if str(name) not in known]
        if new:
            start = max(known.values(), default=-1) + 1
            added = {name: start + i for i, name in enumerate(new)}
            _insert_many(connection, table, ({"cluster": cluster, "topic": name,
                                              "topic_id": topic_id}
                                             for name, topic_id in added.items()))
            known.update(added)
        return known

    def _topic_names(self, connection: Connection, cluster: str) -> np.ndarray:
        """Topic names indexed by id."""
        table = schema.series_topics
        rows = connection.execute(select(table.c.topic_id, table.c.topic).where(
            table.c.cluster == cluster)).all()
        names = np.empty(max((int(r[0]) for r in rows), default=-1) + 1, dtype=object)
        for topic_id, topic in rows:
            names[int(topic_id)] = topic
        return names

    def _blocks(self, cluster: str, resolution_seconds: int | None = None
                ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """(resolution, ts, topic names, topic ids, values) per stored block, oldest first."""
        blocks = schema.series_blocks
        query = select(blocks.c.resolution_seconds, blocks.c.ts_seconds, blocks.c.payload) \
            .where(blocks.c.cluster == cluster)
        if resolution_seconds is not None:
            query = query.where(blocks.c.resolution_seconds == resolution_seconds)
        with self.engine.connect() as connection:
            names = self._topic_names(connection, cluster)
            rows = connection.execute(query.order_by(blocks.c.resolution_seconds,
                                                     blocks.c.ts_seconds)).all()
        for resolution, ts, payload in rows:
            topic_ids, values = series_blocks.decode(bytes(payload))
            yield int(resolution), int(ts), names, topic_ids, values

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
        table = schema.series_blocks
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
        """Stored series as a frame with `ts` as UTC timestamps, ordered by topic, time and
        resolution."""
        parts = []
        for resolution, ts, names, topic_ids, values in self._blocks(cluster,
                                                                     resolution_seconds):
            rows = np.ones(len(topic_ids), dtype=bool) if topic is None else \
                names[topic_ids] == topic
            if not rows.any():
                continue
            parts.append(_block_frame(names, topic_ids[rows], values[rows], resolution, ts))
        frame = _points_frame(parts, cluster).sort_values(
            ["topic", "ts", "resolution_seconds"], kind="stable", ignore_index=True)
        frame["resolution_seconds"] = frame["resolution_seconds"].astype("int64")
        for name in SERIES_COLUMNS:
            frame[name] = frame[name].astype("float64")
        return frame

    def series_history(self, cluster: str) -> SeriesHistory:
        """What analysis reads of a cluster's series, in one pass over its blocks: the daily
        points, each topic's peak of every series at any resolution, the cluster's totals per
        time, and the span the points cover."""
        daily: list[pd.DataFrame] = []
        totals: list[tuple[int, int, *tuple[float, ...]]] = []
        peaks = np.empty((0, len(SERIES_COLUMNS)))
        seen = np.zeros(0, dtype=bool)
        first = last = None
        names = np.array([], dtype=object)
        for resolution, ts, names, topic_ids, values in self._blocks(cluster):
            if len(peaks) < len(names):  # names are the cluster's: sized at the first block
                peaks = np.full((len(names), len(SERIES_COLUMNS)), -np.inf)
                seen = np.zeros(len(names), dtype=bool)
            peaks[topic_ids] = np.maximum(peaks[topic_ids], values)
            seen[topic_ids] = True
            totals.append((resolution, ts, *values.sum(axis=0).tolist()))
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
            if resolution == 86_400:
                daily.append(_block_frame(names, topic_ids, values, resolution, ts))
        daily_frame = _points_frame(daily, cluster)
        peaks_frame = pd.DataFrame(peaks[seen], columns=list(SERIES_COLUMNS),
                                   index=pd.Index(names[:len(seen)][seen], name="topic"))
        totals_frame = pd.DataFrame(totals, columns=["resolution_seconds", "ts_seconds",
                                                     *SERIES_COLUMNS])
        totals_frame.insert(1, "ts", pd.to_datetime(
            totals_frame.pop("ts_seconds").astype("int64"), unit="s", utc=True))
        span = (float(last - first) if first is not None and last is not None else 0.0)
        return SeriesHistory(daily_frame, peaks_frame, totals_frame, span)

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

    def samples(self, cluster: str, topic: str) -> list[bytes]:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.sample_records.c.payloads).where(
                schema.sample_records.c.cluster == cluster,
                schema.sample_records.c.topic == topic)).first()
        return [base64.b64decode(p) for p in row[0]] if row else []

    def samples_of(self, cluster: str) -> dict[str, list[bytes]]:
        """Every sampled topic's records in the cluster, in one query."""
        table = schema.sample_records
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.topic, table.c.payloads).where(
                table.c.cluster == cluster)).all()
        return {topic: [base64.b64decode(p) for p in payloads] for topic, payloads in rows}

    def sampled_topics(self, cluster: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.sample_records.c.topic).where(
                schema.sample_records.c.cluster == cluster))
            return [row[0] for row in rows]

    # Analysis cache ---------------------------------------------------------------------

    def state_key(self) -> tuple[int, int | None, str | None]:
        """Changes whenever a snapshot is written (ids only grow; a replaced window gets a new
        id and stored_at)."""
        snapshots = schema.snapshots
        with self.engine.connect() as connection:
            count, last_id, stored = connection.execute(select(
                func.count(), func.max(snapshots.c.id), func.max(snapshots.c.stored_at))).one()
        return int(count), last_id, str(stored) if stored is not None else None

    def cluster_state_keys(self) -> dict[str, tuple[int, int, str]]:
        """Per cluster, what changes whenever anything an analysis of it reads is written: its
        snapshots' count, newest id and newest write. A collect stores the cluster's series,
        samples and groups with a snapshot, and a replaced window gets a new id."""
        snapshots = schema.snapshots
        with self.engine.connect() as connection:
            rows = connection.execute(select(
                snapshots.c.cluster, func.count(), func.max(snapshots.c.id),
                func.max(snapshots.c.stored_at)).group_by(snapshots.c.cluster)).all()
        return {row[0]: (int(row[1]), int(row[2]), str(row[3])) for row in rows}

    def cluster_analyses(self, keys: Mapping[str, str]) -> dict[str, bytes]:
        """The cached analyses of the clusters in `keys` stored under their key."""
        table = schema.cluster_analysis_cache
        found: dict[str, bytes] = {}
        with self.engine.connect() as connection:
            for cluster, key in keys.items():
                payload = connection.execute(select(table.c.payload).where(
                    table.c.cluster == cluster, table.c.key == key)).scalar()
                if payload is not None:
                    found[cluster] = bytes(payload)
        return found

    def cached_clusters(self, keys: Mapping[str, str]) -> set[str]:
        """The clusters in `keys` whose analysis is cached under their key (none loaded)."""
        table = schema.cluster_analysis_cache
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.cluster, table.c.key).where(
                table.c.cluster.in_(list(keys)))).all()
        return {cluster for cluster, key in rows if keys.get(cluster) == key}

    def cache_cluster_analysis(self, cluster: str, key: str, payload: bytes,
                               keep: int = 2) -> None:
        """Keep `payload` as the cluster's analysis under `key`, and only its `keep` newest."""
        table = schema.cluster_analysis_cache
        with self.transaction() as connection:
            connection.execute(delete(table).where(table.c.cluster == cluster,
                                                   table.c.key == key))
            connection.execute(insert(table).values(cluster=cluster, key=key,
                                                    created_at=datetime.now(UTC),
                                                    payload=payload))
            stale = [row[0] for row in connection.execute(
                select(table.c.key).where(table.c.cluster == cluster)
                .order_by(table.c.created_at.desc()).offset(keep))]
            if stale:
                connection.execute(delete(table).where(table.c.cluster == cluster,
                                                       table.c.key.in_(stale)))

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

    def jobs(self, limit: int = 50, kind: str | None = None,
             before: tuple[datetime, str] | None = None) -> list[dict[str, Any]]:
        """Runs newest first (ties by id); `before` (started_at, id) pages on from a run."""
        table = schema.job_runs
        query = select(table).order_by(table.c.started_at.desc(), table.c.id.desc())
        if kind is not None:
            query = query.where(table.c.kind == kind)
        if before is not None:
            started, job_id = _utc(before[0]), before[1]
            query = query.where((table.c.started_at < started)
                                | ((table.c.started_at == started) & (table.c.id < job_id)))
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

    def reopen(self, ids: Iterable[str], status: str) -> int:
        """Drop the decisions of `ids` that are `status` (an undone apply reopens its
        recommendations); how many were dropped."""
        table = schema.recommendation_status
        with self.store.transaction() as connection:
            result = connection.execute(delete(table).where(table.c.id.in_(list(ids)),
                                                            table.c.status == status))
        return int(result.rowcount or 0)

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

    def reports(self, limit: int = 50, before: tuple[datetime, str] | None = None
                ) -> list[dict[str, Any]]:
        """Archived reports newest first (ties by id); `before` (created_at, id) pages on."""
        table = schema.reports
        query = select(table.c.id, table.c.created_at, table.c.title, table.c.summary) \
            .order_by(table.c.created_at.desc(), table.c.id.desc())
        if before is not None:
            created, report_id = _utc(before[0]), before[1]
            query = query.where((table.c.created_at < created)
                                | ((table.c.created_at == created) & (table.c.id < report_id)))
        with self.store.engine.connect() as connection:
            rows = connection.execute(query.limit(limit))
            return [{**dict(row._mapping), "created_at": _utc(row.created_at)} for row in rows]

    def report_html(self, report_id: str) -> str | None:
        with self.store.engine.connect() as connection:
            row = connection.execute(select(schema.reports.c.html).where(
                schema.reports.c.id == report_id)).first()
            return None if row is None else str(row[0])


def _block_frame(names: np.ndarray, topic_ids: np.ndarray, values: np.ndarray,
                 resolution: int, ts: int) -> pd.DataFrame:
    """One block's points (or some of them) as rows: topic, resolution, time, the series."""
    part = pd.DataFrame(values, columns=list(SERIES_COLUMNS))
    part.insert(0, "topic", names[topic_ids])
    part.insert(1, "resolution_seconds", resolution)
    part.insert(2, "ts_seconds", ts)
    return part


def _points_frame(parts: list[pd.DataFrame], cluster: str) -> pd.DataFrame:
    """Blocks' rows as one frame of the cluster, `ts` as UTC timestamps."""
    columns = ["topic", "resolution_seconds", "ts_seconds", *SERIES_COLUMNS]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame.insert(2, "ts", pd.to_datetime(frame.pop("ts_seconds").astype("int64"), unit="s",
                                          utc=True))
    frame.insert(0, "cluster", cluster)
    return frame
