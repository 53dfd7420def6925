"""Named, crafted clusters for the rule tests: each states the situation it sets up."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from costopt.analyze.analysis import ClusterAnalysis, analyze_cluster
from costopt.base.compression_ratios import estimates
from costopt.config import Settings
from costopt.cost.owners import OwnerAttribution
from costopt.prices import load_builtin_catalog
from costopt.rules import History
from costopt.snapshot.cluster_snapshot import (
    TIERED_SYSTEM_LABEL,
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    Topic,
)
from costopt.store.store import StoredSnapshot

GIB = 1024**3
DAY_MS = 86_400_000
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def brokers(count: int = 3, disk_used_fraction: float = 0.5, cpu: float = 0.3) -> tuple[
        Broker, ...]:
    return tuple(Broker(broker_id=i + 1, rack=f"az{i % 3 + 1}", instance_type="m5.2xlarge",
                        disk_capacity_bytes=4096 * GIB,
                        disk_used_bytes=int(4096 * GIB * disk_used_fraction), cpu_utilisation=cpu)
                 for i in range(count))


def topic(name: str, rate: float = 200_000.0, retention_days: float = 7, partitions: int = 12,
          **overrides: object) -> Topic:
    retention_ms = int(retention_days * DAY_MS)
    base = Topic(name=name, partitions=partitions, replication_factor=3,
                 retention_ms=retention_ms, min_insync_replicas=2,
                 bytes_in_per_second=rate, bytes_out_per_second=rate,
                 messages_in_per_second=rate / 500,
                 log_size_bytes=int(rate * retention_ms / 1000))
    return replace(base, **overrides)  # type: ignore[arg-type]


def reader(group: str, topic_name: str, max_lag_seconds: float = 5.0, members: int = 12,
           state: str = "Stable") -> ConsumerGroup:
    return ConsumerGroup(group=group, topic=topic_name, lag_messages=100,
                         lag_seconds=max_lag_seconds / 2, max_lag_seconds=max_lag_seconds,
                         members=members, state=state)


def history_for(topics: tuple[Topic, ...], days: int = 30) -> History:
    """Flat daily and hourly series at each topic's snapshot rate."""
    rows = [{"topic": t.name, "ts": NOW - timedelta(days=days - d),
             "resolution_seconds": 86_400,
             "bytes_in_per_second": t.bytes_in_per_second,
             "bytes_out_per_second": t.bytes_out_per_second,
             "messages_in_per_second": t.messages_in_per_second,
             "log_size_bytes": float(t.log_size_bytes)}
            for t in topics for d in range(days)]
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return History.from_series(frame)


def json_records(count: int = 120, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [json.dumps({"orderId": int(rng.integers(0, 10**9)), "status": "CONFIRMED",
                        "customer": {"country": "DE", "tier": "gold"},
                        "items": [{"sku": f"SKU-{int(rng.integers(1000, 9999))}", "qty": 1,
                                   "category": "apparel"} for _ in range(5)]}).encode()
            for _ in range(count)]


def blob_records(count: int = 120, seed: int = 2) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.bytes(800) for _ in range(count)]


def analyze(topics: tuple[Topic, ...], groups: tuple[ConsumerGroup, ...] = (),
            broker_set: tuple[Broker, ...] | None = None, rack_aware: bool = False,
            samples: dict[str, list[bytes]] | None = None, history_days: int = 30,
            settings: Settings | None = None, labels: dict[str, str] | None = None,
            catalog: str = "aws-self-managed", history: History | None = None
            ) -> ClusterAnalysis:
    snapshot = ClusterSnapshot(cluster="c1", taken_at=NOW, window_seconds=86_400,
                               brokers=broker_set or brokers(), topics=topics, groups=groups,
                               rack_aware_fetch=rack_aware, labels=labels or {})
    return analyze_cluster(StoredSnapshot(1, snapshot, catalog, "test"),
                           load_builtin_catalog(catalog),
                           history or history_for(topics, history_days), estimates(samples or {}),
                           settings or Settings(), OwnerAttribution())


# Named fleets: one situation each.
def over_retained_fleet() -> ClusterAnalysis:
    """30-day retention, every reader streaming (seconds behind)."""
    t = topic("payments.orders.v1", retention_days=30)
    return analyze((t,), (reader("billing-svc", t.name),))


def weekly_batch_fleet(tiered_storage: str | None = "true") -> ClusterAnalysis:
    """7-day retention read by a batch job once a week (6.9 days behind at its peak), on
    brokers running tiered storage ("true"), not ("false") or unknown (None)."""
    t = topic("analytics.events.v1", retention_days=7)
    labels = {} if tiered_storage is None else {TIERED_SYSTEM_LABEL: tiered_storage}
    return analyze((t,), (reader("stream-svc", t.name),
                          reader("weekly-batch", t.name, max_lag_seconds=6.9 * 86_400)),
                   labels=labels)


def compacted_fleet() -> ClusterAnalysis:
    """A compacted changelog with a long retention.ms that does not bound it."""
    t = topic("accounts.users.changelog", retention_days=30, cleanup_policy="compact")
    return analyze((t,), (reader("users-svc", t.name),))


def abandoned_reader_fleet() -> ClusterAnalysis:
    """30-day retention; a live streaming reader and a group gone 90 days ago."""
    t = topic("orders.created.v1", retention_days=30)
    return analyze((t,), (reader("orders-svc", t.name),
                          reader("old-svc", t.name, max_lag_seconds=90 * 86_400, members=0,
                                 state="Empty")))


def idle_and_dlq_fleet() -> ClusterAnalysis:
    """An idle topic, an idle DLQ, an idle retry topic, and a busy topic."""
    topics = (topic("search.clicks.v1", rate=0.0, log_size_bytes=0),
              topic("orders.created.v1.dlq", rate=0.0, log_size_bytes=0),
              topic("orders-retry-5m", rate=0.0, log_size_bytes=0),
              topic("orders.created.v1"))
    return analyze(topics, (reader("orders-svc", "orders.created.v1"),))


def over_partitioned_fleet() -> ClusterAnalysis:
    """128 partitions carrying 2 KB/s, read by 2 consumers; and a DLQ with 64 partitions;
    and a busy 48-partition topic whose group uses all 48."""
    topics = (topic("ads.impressions.v1", rate=2_000, partitions=128),
              topic("ads.impressions.v1.dlq", rate=10, partitions=64),
              topic("ads.clicks.v1", rate=2_000, partitions=48))
    return analyze(topics, (reader("ads-svc", "ads.impressions.v1", members=2),
                            reader("clicks-svc", "ads.clicks.v1", members=48)))


def uncompressed_fleet() -> ClusterAnalysis:
    """JSON produced without compression (bytes per message = raw size), and a topic of
    already-compressed blobs."""
    raw = json_records()
    mean = sum(len(r) for r in raw) / len(raw)
    blobs = blob_records()
    json_topic = topic("orders.json.v1", rate=mean * 2_000, messages_in_per_second=2_000,
                       compression_type="producer")
    blob_topic = topic("media.images.v1", rate=800 * 500, messages_in_per_second=500)
    return analyze((json_topic, blob_topic),
                   (reader("a", json_topic.name), reader("b", blob_topic.name)),
                   samples={json_topic.name: raw, blob_topic.name: blobs})


def replication_fleet() -> ClusterAnalysis:
    """RF 4 (policy 3) on 6 brokers, min.insync.replicas equal to RF, and min.insync 1 with
    RF 3."""
    topics = (topic("ledger.v1", replication_factor=4, min_insync_replicas=2),
              topic("strict.v1", min_insync_replicas=3),
              topic("loose.v1", min_insync_replicas=1),
              topic("fine.v1"))
    return analyze(topics, tuple(reader(f"g-{t.name}", t.name) for t in topics),
                   broker_set=brokers(6, disk_used_fraction=0.3))


def impossible_replication_fleet() -> ClusterAnalysis:
    """A snapshot Kafka would not accept: RF 4 on 3 brokers."""
    topics = (topic("ledger.v1", replication_factor=4, min_insync_replicas=2),
              topic("fine.v1"))
    return analyze(topics, tuple(reader(f"g-{t.name}", t.name) for t in topics))


def oversized_cluster_fleet() -> ClusterAnalysis:
    """12 brokers 8% full at 10% CPU."""
    t = topic("events.v1", rate=1_000_000, retention_days=3)
    return analyze((t,), (reader("svc", t.name),),
                   broker_set=brokers(12, disk_used_fraction=0.08, cpu=0.1))


def fan_out_fleet(rack_aware: bool = False) -> ClusterAnalysis:
    """A topic read by 8 services."""
    t = topic("catalog.products.v1", rate=2_000_000, retention_days=1)
    t = replace(t, bytes_out_per_second=t.bytes_in_per_second * 8)
    return analyze((t,), tuple(reader(f"svc-{i}", t.name) for i in range(8)),
                   rack_aware=rack_aware)


def ckus(count: int) -> tuple[Broker, ...]:
    """A Confluent Cloud Dedicated cluster's CKUs, as the dialect and the simulator see them:
    one row per CKU billed, no rack, disk or CPU to read."""
    return tuple(Broker(broker_id=i + 1, rack=None, instance_type="CKU", disk_capacity_bytes=0)
                 for i in range(count))


def oversized_dedicated_fleet() -> ClusterAnalysis:
    """A Confluent Cloud Dedicated cluster of 8 CKUs whose peak needs 4 (with 30% headroom)."""
    t = topic("payments.v1", rate=150_000_000, retention_days=1, partitions=600)
    return analyze((t,), (reader("svc", t.name),), broker_set=ckus(8),
                   catalog="confluent-cloud")


ALL_FIXTURES = (over_retained_fleet, weekly_batch_fleet, compacted_fleet,
                abandoned_reader_fleet, idle_and_dlq_fleet, over_partitioned_fleet,
                uncompressed_fleet, replication_fleet, impossible_replication_fleet,
                oversized_cluster_fleet, fan_out_fleet, oversized_dedicated_fleet)
