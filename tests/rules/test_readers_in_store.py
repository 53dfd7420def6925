"""Readers rest on stored history: a batch group whose lag reached 6 days in an older snapshot
holds retention at 6 days × (1 + margin), even when the latest snapshot shows it Empty and
barely behind. Without that history, the proposal falls to what the live reader needs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import delete

from costopt.analyze.analysis import analyze_store
from costopt.config import Settings
from costopt.snapshot.cluster_snapshot import ClusterSnapshot, ConsumerGroup
from costopt.snapshot.commits import with_commit_times
from costopt.sources.collect import window_end
from costopt.store import Store, schema, sqlite_url
from tests.rules.fixtures import DAY_MS, NOW, brokers, topic

MARGIN = 0.5
TOPIC = topic("payments.orders.v1", retention_days=30)


def _snapshot(at: pd.Timestamp, batch: ConsumerGroup | None) -> ClusterSnapshot:
    groups = [ConsumerGroup(group="orders-svc", topic=TOPIC.name, lag_messages=10,
                            lag_seconds=2.0, max_lag_seconds=5.0, members=6, state="Stable",
                            committed_offset_sum=int(at.timestamp()))]
    if batch is not None:
        groups.append(batch)
    return ClusterSnapshot(cluster="c1", taken_at=at.to_pydatetime(), window_seconds=3600,
                           brokers=brokers(), topics=(TOPIC,), groups=tuple(groups))


def _series() -> pd.DataFrame:
    days = pd.date_range(NOW - timedelta(days=30), NOW - timedelta(days=1), freq="D", tz="UTC")
    return pd.DataFrame({"cluster": "c1", "topic": TOPIC.name, "ts": days,
                         "resolution_seconds": 86_400,
                         "bytes_in_per_second": TOPIC.bytes_in_per_second,
                         "bytes_out_per_second": TOPIC.bytes_out_per_second,
                         "messages_in_per_second": TOPIC.messages_in_per_second,
                         "log_size_bytes": float(TOPIC.log_size_bytes)})


def _proposal(store: Store) -> int:
    settings = Settings(store_url=store.url)
    [rec] = [r for r in analyze_store(store, settings).recommendations if r.kind == "retention"]
    return int(rec.proposed["retention.ms"])


def test_a_batch_readers_stored_lag_holds_retention_until_its_history_is_gone(
        tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    now = pd.Timestamp(window_end(NOW, 15))
    before = now - pd.Timedelta(days=5)
    # Five days ago the weekly job was about to run: 6 days behind.
    running_late = ConsumerGroup(group="weekly-export", topic=TOPIC.name, lag_messages=10**6,
                                 lag_seconds=6 * 86_400.0, max_lag_seconds=6 * 86_400.0,
                                 members=0, state="Empty", committed_offset_sum=100)
    store.save_snapshot(with_commit_times(_snapshot(before, running_late)), catalog=None,
                        source="test", series=_series())
    # Now it ran since (its offsets moved) and is Empty again, one day behind.
    caught_up = ConsumerGroup(group="weekly-export", topic=TOPIC.name, lag_messages=10,
                              lag_seconds=86_400.0, max_lag_seconds=86_400.0, members=0,
                              state="Empty", committed_offset_sum=900)
    store.save_snapshot(with_commit_times(_snapshot(now, caught_up),
                                          store.latest_groups("c1")),
                        catalog=None, source="test")
    [latest] = [g for g in store.latest_snapshot("c1").snapshot.groups
                if g.group == "weekly-export"]
    assert latest.last_commit_at == now.to_pydatetime()  # its offsets moved: it committed
    assert _proposal(store) >= 6 * DAY_MS * (1 + MARGIN)

    with store.transaction() as connection:
        connection.execute(delete(schema.snapshot_groups).where(
            schema.snapshot_groups.c.group_name == "weekly-export"))
    assert _proposal(store) == DAY_MS  # the live reader is seconds behind: the 24 h floor
