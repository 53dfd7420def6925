"""Measured reads from many stored snapshots: what `group_offsets` and `reads_from_offsets`
give (rows as the driver returns them, integer codes, arrays) equals what the pandas join
and name-keyed grouping they replaced give on the same snapshots, to the last bit and in
the same order, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from costopt.analyze.analysis import measured_reads
from costopt.cost.reads import GroupReads, bytes_per_message
from costopt.snapshot.cluster_snapshot import ClusterSnapshot, ConsumerGroup, Topic
from costopt.store import Store
from costopt.store.offsets import OFFSET_COLUMNS, group_offsets
from tests.fixtures_cost import worked_example_cluster

START = datetime(2026, 11, 1, tzinfo=UTC)
STEPS = 12  # 15-minute snapshots: three hours


def _snapshots() -> list[ClusterSnapshot]:
    """A cluster's snapshots every 15 minutes: topics whose rates swing (one that produces
    nothing at times), groups whose offsets progress unevenly, one reset, one whose offsets
    are missing now and then, one that appears late, one that never moves; lags that vary."""
    rng = np.random.default_rng(30)
    base = worked_example_cluster()
    names = ["orders", "clicks", "quiet"]
    written = {name: float(rng.integers(10**6, 10**9)) for name in names}
    committed = {("billing", "orders"): 1_000.0, ("search", "clicks"): 50.0,
                 ("audit", "orders"): 7.0, ("late", "clicks"): 0.0, ("idle", "quiet"): 3.0,
                 ("search", "orders"): 11.0}
    found = []
    for step in range(STEPS):
        messages = {name: float(rng.uniform(5, 500)) for name in names}
        messages["quiet"] = 0.0 if step % 3 else float(rng.uniform(1, 3))
        topics = tuple(Topic(name=name, partitions=6, replication_factor=3,
                             messages_in_per_second=messages[name],
                             bytes_in_per_second=messages[name] * float(rng.uniform(90, 2_000)),
                             log_size_bytes=10**9) for name in names)
        groups = []
        for (group, topic), offset in committed.items():
            if group == "late" and step < 5:
                continue
            moved = 0.0 if group == "idle" else messages[topic] * 900 * rng.uniform(0.5, 1.5)
            offset = 40.0 if group == "audit" and step == 6 else offset + round(moved)  # reset
            committed[(group, topic)] = offset
            missing = group == "search" and step in (2, 3, 9)
            written[topic] += messages[topic] * 900
            lag = max(written[topic] - offset, 0.0)
            groups.append(ConsumerGroup(
                group=group, topic=topic, lag_messages=int(lag),
                lag_seconds=lag / max(messages[topic], 1.0),
                max_lag_seconds=float(rng.uniform(1, 10**4)), members=int(rng.integers(0, 4)),
                committed_offset_sum=None if missing else int(offset)))
        found.append(replace(base, taken_at=START + timedelta(minutes=15 * step),
                             topics=topics, groups=tuple(groups)))
    return found


def _offsets_before(snapshots: list[ClusterSnapshot]) -> pd.DataFrame:
    """The offsets frame as the store's join gave it: each group row with its topic's rates
    at that snapshot, matched by name, oldest first."""
    rows = [(s.taken_at, g.group, g.topic, g.committed_offset_sum,
             s.topic(g.topic).bytes_in_per_second, s.topic(g.topic).messages_in_per_second)
            for s in snapshots for g in s.groups]
    frame = pd.DataFrame(rows, columns=OFFSET_COLUMNS)
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
    for column in OFFSET_COLUMNS[3:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame.sort_values("taken_at", kind="stable", ignore_index=True)


def _reads_before(offsets: pd.DataFrame) -> GroupReads:
    """Reads as the name-keyed pandas grouping computed them before the array version."""
    frame = offsets.sort_values(["group", "topic", "taken_at"], kind="stable").copy()
    frame["bpm"] = bytes_per_message(frame["bytes_in_per_second"],
                                     frame["messages_in_per_second"])
    previous = frame.groupby([frame["group"], frame["topic"]], sort=False).shift(1)
    progress = frame["committed_offset_sum"] - previous["committed_offset_sum"]
    seconds = (frame["taken_at"] - previous["taken_at"]).dt.total_seconds()
    read = (progress * frame["bpm"].fillna(previous["bpm"])).where(progress != 0, 0.0)
    valid = progress.notna() & (progress >= 0) & (seconds > 0) & read.notna()
    pairs = pd.DataFrame({"group": frame["group"], "topic": frame["topic"],
                          "bytes": read, "seconds": seconds})[valid.to_numpy()]
    totals = pairs.groupby(["group", "topic"], sort=False)[["bytes", "seconds"]].sum()
    return {(str(g), str(t)): float(row.bytes / row.seconds)
            for (g, t), row in totals.iterrows() if row.seconds > 0}


def test_reads_over_many_snapshots_equal_the_name_keyed_grouping(store: Store) -> None:
    snapshots = _snapshots()
    for snapshot in snapshots:
        store.save_snapshot(snapshot, catalog=None, source="test")
    other = replace(snapshots[-1], cluster="west")  # another cluster's rows stay out
    store.save_snapshot(other, catalog=None, source="test")
    until = snapshots[-1].taken_at
    since = until - timedelta(hours=2)  # the window leaves the first snapshots out
    inside = [s for s in snapshots if s.taken_at >= since]

    offsets = group_offsets(store, "east", since, until)
    expected = _offsets_before(inside)
    key = ["taken_at", "group", "topic"]
    pd.testing.assert_frame_equal(
        offsets.sort_values(key, ignore_index=True), expected.sort_values(key, ignore_index=True),
        check_exact=True)

    reads = measured_reads(store, "east", until, 2)
    before = _reads_before(expected)
    assert list(reads.items()) == list(before.items())  # the same rates, bit for bit, in order
    assert ("search", "clicks") in reads and ("idle", "quiet") in reads  # a gap; no movement
    assert reads[("idle", "quiet")] == 0.0
    assert ("late", "clicks") in reads and len(reads) == 6
