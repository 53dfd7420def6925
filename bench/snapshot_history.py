"""The `wix` store as a running deployment leaves it after a day: 96 snapshots per cluster.

The scheduler collects every 15 minutes (`schedule.collect_every_minutes`) and never prunes
snapshots, so the analysis reads a day of them (`measured_reads`, 24 h of committed offsets)
and up to 30 days of them (`load_history`'s group record). The bench's `wix` store holds one
snapshot per cluster; this adds the 95 before it, at 15-minute steps, derived from the latest:

- topics: the latest snapshot's, their rates moved by a daily swing (bytes per message kept);
- consumer groups: the simulator's groups (`costopt.simulate.fleet`, their kinds and batch
  phases as `costopt.simulate.snapshots._groups` draws them), with committed offsets that
  progress as each kind reads: a streaming or audit group a little faster or slower than the
  topic is written each step (its lag wanders), a batch job's not at all between runs and up to
  the log's end at each run (Empty, no members, in between), an abandoned group's never; a
  few rows miss their offsets, as a collect that could not fetch them stores them;
- brokers and principals: copied.

Rows go in through `sqlite3` directly (`executemany`, one transaction per cluster): the
store's own `save_snapshot` would take far longer for 6.6 M group rows, and builds nothing
the analysis reads differently.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from costopt.simulate.fleet import Fleet, stable_seed
from costopt.simulate.snapshots import BATCH_CYCLE_SECONDS, BATCH_RUN_SHARE

EARLIER_SNAPSHOTS = 95
STEP_SECONDS = 15 * 60
MISSING_OFFSETS_SHARE = 0.005  # rows a collect stored without offsets (fetch failed)
TOPIC_COLUMNS = ("name", "partitions", "replication_factor", "retention_ms", "retention_bytes",
                 "cleanup_policy", "compression_type", "min_insync_replicas",
                 "remote_storage_enable", "local_retention_ms", "segment_bytes",
                 "bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                 "log_size_bytes", "remote_log_size_bytes", "rack_aware_read_bytes_per_second")
GROUP_COLUMNS = ("snapshot_id", "group_name", "topic", "lag_messages", "lag_seconds",
                 "max_lag_seconds", "members", "state", "committed_offset_sum",
                 "bytes_out_per_second", "last_commit_at")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a DateTime in SQLite


def fingerprint(base: Path) -> str:
    """The base store (its name holds its day and the code that made it) and this builder."""
    digest = hashlib.sha256(base.name.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


def build_day_store(base: Path, target: Path, fleet: Fleet,
                    say: Callable[[str], None] = print) -> int:
    """Copy `base` to `target` and add the earlier snapshots; returns group rows added."""
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    shutil.copyfile(base, partial)
    connection = sqlite3.connect(partial)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    added = 0
    clusters = [row[0] for row in connection.execute(
        "SELECT DISTINCT cluster FROM snapshots ORDER BY cluster")]
    for index, cluster in enumerate(clusters, 1):
        added += _add_cluster_day(connection, cluster, fleet)
        say(f"  day of snapshots: {cluster} ({index}/{len(clusters)}), {added:,} group rows")
    connection.close()
    partial.rename(target)
    return added


def _add_cluster_day(connection: sqlite3.Connection, cluster: str, fleet: Fleet) -> int:
    latest_id, taken_text = connection.execute(
        "SELECT id, taken_at FROM snapshots WHERE cluster = ? ORDER BY taken_at DESC LIMIT 1",
        (cluster,)).fetchone()
    latest = datetime.strptime(taken_text, TIME_FORMAT)
    groups = _latest_groups(connection, latest_id, cluster, fleet)
    steps = np.arange(EARLIER_SNAPSHOTS + 1)  # 0: the latest snapshot, k: k steps before it
    offsets, lag_seconds, members, state, last_commit = _group_day(groups, steps, cluster,
                                                                   fleet)
    missing = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, "missing")).random(
        offsets.shape) < MISSING_OFFSETS_SHARE
    with connection:
        connection.executemany(
            "UPDATE snapshot_groups SET committed_offset_sum = ? WHERE rowid = ?",
            zip(_nullable(offsets[:, 0], missing[:, 0]), groups["rowid"].tolist(),
                strict=True))
        for step in steps[1:]:
            snapshot_id = _copy_snapshot(connection, latest_id,
                                         latest - timedelta(seconds=int(step) * STEP_SECONDS))
            _copy_topics(connection, latest_id, snapshot_id, int(step))
            connection.executemany(
                f"INSERT INTO snapshot_groups ({', '.join(GROUP_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(GROUP_COLUMNS))})",
                _group_rows(snapshot_id, latest, groups, int(step), offsets, lag_seconds,
                            members, state, last_commit, missing))
    return len(groups) * EARLIER_SNAPSHOTS


def _latest_groups(connection: sqlite3.Connection, snapshot_id: int, cluster: str,
                   fleet: Fleet) -> pd.DataFrame:
    """The latest snapshot's group rows with the simulator's kind of each and its topic's
    messages in per second."""
    stored = pd.read_sql_query(
        "SELECT g.rowid AS rowid, g.group_name AS group_name, g.topic AS topic, "
        "g.max_lag_seconds AS max_lag_seconds, g.bytes_out_per_second AS bytes_out, "
        "t.messages_in_per_second AS rate FROM snapshot_groups g "
        "JOIN snapshot_topics t ON t.snapshot_id = g.snapshot_id AND t.name = g.topic "
        "WHERE g.snapshot_id = ?", connection, params=(snapshot_id,))
    planted = fleet.groups[fleet.groups["cluster"] == cluster].reset_index(drop=True)
    rng = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, "lag"))
    planted = planted.assign(phase=rng.random(len(planted)))  # as `_groups` draws them
    return stored.merge(planted[["group", "topic", "kind", "members", "abandoned_days_ago",
                                 "typical_lag_seconds", "phase"]],
                        left_on=["group_name", "topic"], right_on=["group", "topic"],
                        how="left").sort_values("rowid", ignore_index=True)


def _group_day(groups: pd.DataFrame, steps: np.ndarray, cluster: str, fleet: Fleet
               ) -> tuple[np.ndarray, ...]:
    """Per group row (rows) and step back from the latest (columns): committed offset sum,
    lag in seconds, members, state and last commit (seconds before the latest snapshot)."""
    rate = groups["rate"].fillna(0.0).to_numpy()[:, None]
    back = steps[None, :].astype(float) * STEP_SECONDS  # seconds before the latest
    written = rate * (30 * 86_400.0 - back)  # the log's end: a month of messages at the rate
    kind = groups["kind"].fillna("streaming").to_numpy()
    rng = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, "day"))
    # Streaming/audit: each step reads 0.6-1.4x what was written; walked back from the latest.
    read = rate * STEP_SECONDS * rng.uniform(0.6, 1.4, (len(groups), len(steps)))
    read[:, 0] = 0.0
    typical = groups["typical_lag_seconds"].fillna(0.0).to_numpy()[:, None]
    committed = np.minimum(written[:, :1] - rate * typical - np.cumsum(read, axis=1), written)
    lag_seconds = np.where(rate > 0, (written - committed) / np.where(rate > 0, rate, 1.0),
                           typical)
    members = np.repeat(groups["members"].fillna(1).to_numpy()[:, None], len(steps), axis=1)
    state = np.full(committed.shape, "Stable", dtype=object)
    last_commit = np.broadcast_to(back, committed.shape).copy()
    cycle = np.vectorize(BATCH_CYCLE_SECONDS.get)(kind, 0.0)[:, None]
    batch = cycle[:, 0] > 0
    if batch.any():  # how far into its cycle: the phase the simulator drew at the latest
        phase = np.mod(groups["phase"].to_numpy()[:, None] - back / np.where(
            cycle > 0, cycle, 1.0), 1.0)
        since_run = phase * cycle
        running = phase >= 1 - BATCH_RUN_SHARE
        at_run = rate * (30 * 86_400.0 - back - since_run)
        committed[batch] = at_run[batch]
        lag_seconds[batch] = since_run[batch]
        members[batch] = np.where(running[batch], members[batch], 0)
        state[batch] = np.where(running[batch], "Stable", "Empty")
        last_commit[batch] = np.where(running, back, back + since_run)[batch]
    abandoned = kind == "abandoned"
    if abandoned.any():
        days = groups["abandoned_days_ago"].fillna(0.0).to_numpy()[:, None] * 86_400.0
        committed[abandoned] = np.broadcast_to(rate * (30 * 86_400.0 - days),
                                               committed.shape)[abandoned]
        lag_seconds[abandoned] = np.broadcast_to(days - back, committed.shape)[abandoned]
        members[abandoned], state[abandoned] = 0, "Empty"
        last_commit[abandoned] = np.broadcast_to(days, committed.shape)[abandoned]
    return np.maximum(committed, 0.0), np.maximum(lag_seconds, 0.0), members, state, \
        last_commit


def _nullable(values: np.ndarray, missing: np.ndarray) -> list[int | None]:
    return [None if gone else int(value) for value, gone in zip(values.tolist(),
                                                                missing.tolist(), strict=True)]


def _group_rows(snapshot_id: int, latest: datetime, groups: pd.DataFrame, step: int,
                offsets: np.ndarray, lag_seconds: np.ndarray, members: np.ndarray,
                state: np.ndarray, last_commit: np.ndarray, missing: np.ndarray
                ) -> Iterator[tuple[object, ...]]:
    rate = groups["rate"].fillna(0.0).to_numpy()
    lag = lag_seconds[:, step]
    commits = [(latest - timedelta(seconds=float(s))).strftime(TIME_FORMAT)
               for s in last_commit[:, step].tolist()]
    return zip([snapshot_id] * len(groups), groups["group_name"].tolist(),
               groups["topic"].tolist(), (rate * lag).astype(np.int64).tolist(), lag.tolist(),
               groups["max_lag_seconds"].tolist(), members[:, step].tolist(),
               state[:, step].tolist(), _nullable(offsets[:, step], missing[:, step]),
               groups["bytes_out"].tolist(), commits, strict=True)


def _copy_snapshot(connection: sqlite3.Connection, latest_id: int, taken_at: datetime) -> int:
    cursor = connection.execute(
        "INSERT INTO snapshots (cluster, taken_at, window_seconds, rack_aware_fetch, catalog, "
        "source, labels, stored_at) SELECT cluster, ?, window_seconds, rack_aware_fetch, "
        "catalog, source, labels, stored_at FROM snapshots WHERE id = ?",
        (taken_at.strftime(TIME_FORMAT), latest_id))
    snapshot_id = int(cursor.lastrowid or 0)
    for table, columns in (("snapshot_brokers", (
            "broker_id", "rack", "instance_type", "disk_capacity_bytes", "disk_used_bytes",
            "cpu_utilisation", "partition_replicas", "provisioned_throughput_mibps",
            "volume_type")), ("snapshot_principals", (
            "principal_id", "topic", "bytes_in_per_second", "bytes_out_per_second",
            "display_name"))):
        names = ", ".join(columns)
        connection.execute(f"INSERT INTO {table} (snapshot_id, {names}) "
                           f"SELECT ?, {names} FROM {table} WHERE snapshot_id = ?",
                           (snapshot_id, latest_id))
    return snapshot_id


def _copy_topics(connection: sqlite3.Connection, latest_id: int, snapshot_id: int,
                 step: int) -> None:
    """The latest topics, rates swung by a day's cycle (the same factor on bytes and
    messages, so bytes per message holds)."""
    swing = 1.0 + 0.2 * float(np.sin(2 * np.pi * step / 96))
    scaled = {"bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"}
    selected = ", ".join(f"{name} * ?" if name in scaled else name for name in TOPIC_COLUMNS)
    connection.execute(
        f"INSERT INTO snapshot_topics (snapshot_id, {', '.join(TOPIC_COLUMNS)}) "
        f"SELECT ?, {selected} FROM snapshot_topics WHERE snapshot_id = ?",
        (snapshot_id, swing, swing, swing, latest_id))
