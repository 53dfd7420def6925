"""A seeded, deterministic generator of realistic Kafka fleets.

Everything is generated column-wise with numpy so the `huge` preset (100,000 topics) takes
seconds. The fleet records the waste it planted (`Fleet.planted`), so recommendation tests can
measure recall and precision against ground truth.

Shapes follow what operators report: per-topic throughput is heavy-tailed (lognormal), traffic
has a diurnal and a weekly cycle and a growth trend; a minority of topics are idle, DLQ/retry,
over-partitioned ("created for the future") or kept far longer than anyone reads them; some
consumer groups are abandoned; many services re-read the same topics (fan-out).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from costopt.simulate.plants import PlantedChange, plant_changes
from costopt.simulate.presets import FleetSpec

DAY_MS = 86_400_000
GIB = 1024**3
TEAMS = (
    "payments", "orders", "search", "ads", "identity", "notifications", "analytics", "billing",
    "inventory", "shipping", "messaging", "fraud", "recommendations", "media", "growth", "crm",
    "checkout", "reviews", "logistics", "pricing",
)
ENTITIES = (
    "orders", "users", "sessions", "clicks", "payments", "invoices", "carts", "products",
    "events", "emails", "devices", "accounts", "refunds", "shipments", "prices", "reviews",
    "searches", "impressions", "subscriptions", "audits",
)
EVENTS = ("created", "updated", "deleted", "changelog", "snapshot", "stream", "enriched", "raw")
CLUSTER_PURPOSES = ("main", "events", "logs", "analytics", "cdc", "streams", "metrics", "billing")
REGIONS = ("use1", "euw1", "apse1", "usw2", "euc1")
# The AWS region each short name stands for: every simulated cluster is priced where it runs.
AWS_REGIONS = {"use1": "us-east-1", "euw1": "eu-west-1", "apse1": "ap-southeast-1",
               "usw2": "us-west-2", "euc1": "eu-central-1"}
PAYLOAD_KINDS = ("json", "avro", "blob")
READER_KINDS = ("streaming", "daily_batch", "weekly_batch", "audit", "abandoned")
# (catalog, instance type, disk bytes per broker, network bytes/s a broker handles comfortably)
CLUSTER_SHAPES = (
    ("aws-self-managed", "m5.2xlarge", 4 * 1024 * GIB, 250e6),
    ("aws-self-managed", "r6i.xlarge", 2 * 1024 * GIB, 150e6),
    ("aws-msk", "kafka.m5.2xlarge", 4 * 1024 * GIB, 250e6),
)
# Confluent Cloud clusters of the `confluent` preset: (name, catalog, capacity unit). Standard
# and Freight scale in eCKUs with the load; a Dedicated cluster is provisioned in CKUs.
CONFLUENT_SHAPES = (
    ("standard-orders", "confluent-cloud", "eCKU.standard"),
    ("dedicated-core", "confluent-cloud", "CKU"),
    ("freight-analytics", "confluent-cloud", "eCKU.freight"),
)
# What one Dedicated CKU carries (ingress, egress bytes/s; partitions), to size the simulated
# Dedicated cluster as its operator did, for growth that has not come: twice what the load
# needs, at least four CKUs (two more than a multi-zone cluster's minimum, for the
# `cku_headroom` rule to find).
MIN_PLANTED_CKUS = 4
CKU_CAPACITY = (60e6, 180e6, 4_500)
PRINCIPAL_COLUMNS = ("cluster", "topic", "principal_id", "display_name", "produce_share",
                     "readers")
PLANTED_KINDS = ("idle_topic", "over_partitioned", "over_retained", "uncompressed",
                 "abandoned_group")


@dataclass
class Fleet:
    """Clusters, brokers, topics and consumer groups as DataFrames, plus what was planted."""

    spec: FleetSpec
    end: datetime
    clusters: pd.DataFrame
    brokers: pd.DataFrame
    topics: pd.DataFrame
    groups: pd.DataFrame
    planted: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    # Service accounts' traffic per topic, planted (Confluent fleets): cluster, topic,
    # principal_id, display_name, produce_share (of the topic's bytes in) and readers (how
    # many of the principal's live consumer groups read the topic, each all of it).
    principals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(
        PRINCIPAL_COLUMNS)))
    # Changes made part-way through the history, for anomaly detection (`plants.py`).
    changes: tuple[PlantedChange, ...] = ()

    @property
    def is_confluent(self) -> bool:
        return self.spec.platform == "confluent_cloud"

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.spec.days)

    @property
    def hours(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="h", inclusive="left")


def default_end() -> datetime:
    """Three hours before the current hour: promtool refuses the most recent 3 hours."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=3)


def stable_seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(part) for part in parts).encode())


def _unique_names(names: np.ndarray) -> np.ndarray:
    frame = pd.Series(names)
    duplicate_index = frame.groupby(frame).cumcount().to_numpy()
    return np.where(duplicate_index == 0, names,
                    [f"{n}-{i}" for n, i in zip(names, duplicate_index, strict=True)])


def _topic_names(rng: np.random.Generator, count: int, dlq: np.ndarray) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    teams = rng.choice(TEAMS, size=count)
    entities = rng.choice(ENTITIES, size=count)
    events = rng.choice(EVENTS, size=count)
    versions = rng.integers(1, 4, size=count)
    suffix = np.where(dlq, np.where(rng.random(count) < 0.5, ".dlq", ".retry"), "")
    names = np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(
        teams.astype(str), "."), entities.astype(str)), "."), events.astype(str)),
        np.char.add(".v", versions.astype(str)))
    return _unique_names(np.char.add(names, suffix)), teams


def generate_fleet(spec: FleetSpec, end: datetime | None = None) -> Fleet:
    """The fleet for `spec`; the same spec (seed included) and end give the same fleet."""
    end = end or default_end()
    rng = np.random.default_rng(spec.seed)
    n = spec.topics

    confluent = spec.platform == "confluent_cloud"
    if spec.platform not in ("kafka", "confluent_cloud"):
        raise ValueError(f"unknown fleet platform {spec.platform!r} (kafka, confluent_cloud)")
    if confluent and spec.clusters > len(CONFLUENT_SHAPES):
        raise ValueError(f"a Confluent fleet has at most {len(CONFLUENT_SHAPES)} clusters")
    cluster_names = [shape[0] for shape in CONFLUENT_SHAPES[:spec.clusters]] if confluent else [
        f"{REGIONS[i % len(REGIONS)]}-{CLUSTER_PURPOSES[i % len(CLUSTER_PURPOSES)]}"
                     + (f"-{i // (len(REGIONS) * len(CLUSTER_PURPOSES))}"
                        if i >= len(REGIONS) * len(CLUSTER_PURPOSES) else "")
                     for i in range(spec.clusters)]
    # Topics spread over clusters unevenly (a few big clusters, a tail of small ones).
    cluster_weights = rng.dirichlet(np.full(spec.clusters, 2.0))
    topic_cluster = rng.choice(spec.clusters, size=n, p=cluster_weights)

    # Special topics first: DLQ/retry, idle, compacted, tiered; then planted waste.
    roll = rng.random(n)
    dlq = roll < spec.dlq_share
    idle = (~dlq) & (roll < spec.dlq_share + spec.idle_share)
    rest = ~(dlq | idle)
    roll2 = rng.random(n)
    compacted = rest & (roll2 < spec.compacted_share)
    tiered = rest & ~compacted & (roll2 >= spec.compacted_share) & (
        roll2 < spec.compacted_share + spec.tiered_share)
    ordinary = rest & ~compacted & ~tiered
    roll3 = rng.random(n)
    over_partitioned = ordinary & (roll3 < spec.over_partitioned_share)
    over_retained = ordinary & ~over_partitioned & (roll3 >= spec.over_partitioned_share) & (
        roll3 < spec.over_partitioned_share + spec.over_retained_share)

    names, teams = _topic_names(rng, n, dlq)

    # Throughput: lognormal around the spec's median (6 KB/s gives a mean of ~45 KB/s).
    base_bytes_in = rng.lognormal(mean=np.log(spec.median_topic_bytes_per_second), sigma=2.0,
                                  size=n)
    base_bytes_in = np.where(over_partitioned, np.minimum(base_bytes_in, 20_000), base_bytes_in)
    # Planted over-retention is material: at least ~5 GiB kept beyond need per replica.
    base_bytes_in = np.where(over_retained, np.maximum(base_bytes_in, 10_000), base_bytes_in)
    base_bytes_in = np.where(idle, 0.0, base_bytes_in)
    base_bytes_in = np.where(dlq, rng.lognormal(np.log(20), 1.0, size=n), base_bytes_in)
    # About +3% a month on average, ±9% a month between topics: a large, mature fleet (an
    # assumption: compounding 12% a month for a quarter, as this once used, is hypergrowth).
    growth_per_day = rng.normal(0.001, 0.003, size=n)
    payload_kind = rng.choice(PAYLOAD_KINDS, size=n, p=(0.6, 0.3, 0.1))
    raw_record_bytes = np.where(payload_kind == "json", rng.integers(300, 1500, size=n),
                                np.where(payload_kind == "avro", rng.integers(120, 600, size=n),
                                         rng.integers(1000, 8000, size=n)))
    uncompressed = ordinary & (payload_kind == "json") & (
        rng.random(n) < spec.uncompressed_share / 0.6)
    compression_type = np.where(uncompressed, "producer",
                                rng.choice(("producer", "lz4", "zstd", "snappy"), size=n,
                                           p=(0.55, 0.2, 0.15, 0.1)))
    # Bytes on the wire and on disk: producer-compressed unless planted uncompressed.
    producer_codec = np.where(uncompressed, "none",
                              rng.choice(("lz4", "zstd", "snappy", "gzip"), size=n,
                                         p=(0.4, 0.3, 0.2, 0.1)))
    producer_codec = np.where(compression_type == "producer", producer_codec, compression_type)
    # Raw/stored ratios per payload kind and codec, as measured on this simulator's payloads
    # by costopt.base.compression_ratios (Kafka-like 16 KiB batches).
    ratio_table = {
        "json": {"none": 1.0, "lz4": 3.5, "snappy": 3.5, "gzip": 5.6, "zstd": 5.7},
        "avro": {"none": 1.0, "lz4": 1.36, "snappy": 1.36, "gzip": 1.44, "zstd": 1.47},
        "blob": {"none": 1.0, "lz4": 1.0, "snappy": 1.0, "gzip": 1.0, "zstd": 1.0},
    }
    codec_ratio = np.array([ratio_table[kind][codec] for kind, codec
                            in zip(payload_kind, producer_codec, strict=True)])
    stored_record_bytes = np.maximum(raw_record_bytes / codec_ratio, 20).round()

    # Partitions: mean matches spec.partitions / topics; over-partitioned get 64–256.
    mean_partitions = spec.partitions / spec.topics
    choices = np.array([1, 3, 6, 8, 12, 16, 24, 32, 48, 64])
    weights = np.exp(-choices / max(mean_partitions, 1.0))
    weights /= weights.sum()
    partitions = rng.choice(choices, size=n, p=weights)
    partitions = np.where(over_partitioned, rng.choice([64, 96, 128, 200, 256], size=n),
                          partitions)
    hot = base_bytes_in > 5e6
    partitions = np.where(hot & ~over_partitioned, np.maximum(partitions, 48), partitions)
    # Scale the ordinary topics so the fleet total matches the spec (planted ones stay as set).
    planted_total = partitions[over_partitioned].sum()
    scale = max(spec.partitions - planted_total, n) / max(partitions[~over_partitioned].sum(), 1)
    partitions = np.where(over_partitioned, partitions,
                          np.maximum(1, np.round(partitions * scale))).astype(np.int64)

    replication_factor = np.where(rng.random(n) < 0.04, 4, 3)
    replication_factor = np.where(rng.random(n) < 0.03, 2, replication_factor)
    min_isr = np.where(rng.random(n) < 0.05, 1, np.minimum(2, replication_factor - 1))

    # Retention follows the slowest reader of an ordinary topic, so it is not waste there.
    reader_profile = rng.choice(("streaming", "daily_batch", "weekly_batch"), size=n,
                                p=(0.5, 0.3, 0.2))
    # Topics "created for the future" are read by a streaming service with a few consumers.
    reader_profile = np.where(over_partitioned, "streaming", reader_profile)
    retention_ms = np.select(
        [reader_profile == "streaming", reader_profile == "daily_batch"],
        [DAY_MS, 3 * DAY_MS], default=7 * DAY_MS).astype(np.int64)
    reader_profile = np.where(over_retained, "streaming", reader_profile)
    # "Default retention everywhere": a week or more where every reader streams.
    retention_ms = np.where(over_retained, rng.choice([7, 14, 30], size=n) * DAY_MS,
                            retention_ms)
    retention_ms = np.where(tiered, 90 * DAY_MS, retention_ms)
    reader_profile = np.where(tiered, "audit", reader_profile)
    retention_ms = np.where(dlq, 14 * DAY_MS, retention_ms)
    retention_ms = np.where(compacted, -1, retention_ms)
    local_retention_ms = np.where(tiered, DAY_MS, -2)
    cleanup_policy = np.where(compacted, "compact", "delete")
    retention_bytes = np.full(n, -1, dtype=np.int64)
    compact_keyspace_bytes = np.where(compacted, rng.lognormal(np.log(2e8), 1.5, size=n), 0.0)

    topics = pd.DataFrame({
        "cluster": np.array(cluster_names)[topic_cluster],
        "topic": names,
        "owner": teams,
        "partitions": partitions,
        "replication_factor": replication_factor,
        "min_insync_replicas": min_isr,
        "retention_ms": retention_ms.astype(np.int64),
        "retention_bytes": retention_bytes,
        "local_retention_ms": local_retention_ms.astype(np.int64),
        "cleanup_policy": cleanup_policy,
        "compression_type": compression_type,
        "producer_codec": producer_codec,
        "remote_storage_enable": tiered,
        "payload_kind": payload_kind,
        "raw_record_bytes": raw_record_bytes,
        "stored_record_bytes": stored_record_bytes,
        "base_bytes_in_per_second": base_bytes_in,
        "growth_per_day": growth_per_day,
        "reader_profile": reader_profile,
        "compact_keyspace_bytes": compact_keyspace_bytes,
        "is_dlq": dlq,
        "is_idle": idle,
        "over_partitioned": over_partitioned,
        "is_platform": False,
    })
    planted_rows = topics.copy()
    if not confluent:  # Confluent Cloud runs no Connect or registry topics in the cluster
        topics = pd.concat([topics, _platform_topics(cluster_names)], ignore_index=True)
    groups = _generate_groups(rng, spec, topics)
    if not confluent:
        groups = pd.concat([groups, _platform_groups(topics)], ignore_index=True)
    readers = groups[groups["kind"] != "abandoned"].groupby(["cluster", "topic"]).size()
    topics["active_readers"] = (topics.set_index(["cluster", "topic"]).index.map(readers)
                                .fillna(0).astype(np.int64).to_numpy())
    clusters, brokers = (_confluent_clusters(cluster_names, topics) if confluent
                         else _size_clusters(rng, cluster_names, topics))
    # Only fleets Kafka would accept: no more replicas than brokers, min.insync ≤ RF.
    broker_count = topics["cluster"].map(clusters.set_index("cluster")["brokers"])
    topics["replication_factor"] = np.minimum(topics["replication_factor"], broker_count)
    topics["min_insync_replicas"] = np.minimum(topics["min_insync_replicas"],
                                               topics["replication_factor"])

    rows = planted_rows
    planted = {
        "idle_topic": set(zip(rows.cluster[idle], rows.topic[idle], strict=True)),
        "over_partitioned": set(zip(rows.cluster[over_partitioned],
                                    rows.topic[over_partitioned], strict=True)),
        "over_retained": set(zip(rows.cluster[over_retained], rows.topic[over_retained],
                                 strict=True)),
        "uncompressed": set(zip(rows.cluster[uncompressed], rows.topic[uncompressed],
                                strict=True)),
        "abandoned_group": set(zip(groups.cluster[groups.kind == "abandoned"],
                                   groups.group[groups.kind == "abandoned"], strict=True)),
    }
    principals = (_plant_principals(np.random.default_rng(stable_seed(spec.seed, "principals")),
                                    topics, groups) if confluent
                  else pd.DataFrame(columns=list(PRINCIPAL_COLUMNS)))
    return plant_changes(Fleet(spec, end, clusters, brokers, topics, groups, planted,
                               principals))


# Topics every platform has (`rules/protected.py`): quiet, compacted or kept for years, never
# idle. (name, partitions, cleanup.policy, retention.ms, bytes in/s, bytes kept, reader group)
PLATFORM_TOPICS: tuple[tuple[str, int, str, int, float, float, str | None], ...] = (
    ("__consumer_offsets", 50, "compact", 7 * DAY_MS, 2_000.0, 5e8, None),
    ("connect-configs", 1, "compact", 7 * DAY_MS, 0.0, 2e5, "connect-cluster"),
    ("connect-offsets", 25, "compact", 7 * DAY_MS, 50.0, 5e7, "connect-cluster"),
    ("connect-status", 5, "compact", 7 * DAY_MS, 5.0, 1e6, "connect-cluster"),
    ("_schemas", 1, "compact", 7 * DAY_MS, 0.0, 5e6, None),  # the registry reads, no group
    ("orders-enricher-order-store-changelog", 12, "compact", 7 * DAY_MS, 500.0, 2e9, None),
    ("heartbeats", 1, "compact", 7 * DAY_MS, 10.0, 1e5, None),
    ("audit.ledger.archive.v1", 6, "delete", 7 * 365 * DAY_MS, 0.0, 5e10, None),
    ("accounts.balances.ledger.v1", 6, "compact", 7 * DAY_MS, 0.0, 1e9, "balances-svc"),
)


def _platform_topics(cluster_names: list[str]) -> pd.DataFrame:
    rows = []
    for cluster in cluster_names:
        for name, partitions, policy, retention, rate, kept, _ in PLATFORM_TOPICS:
            rows.append({
                "cluster": cluster, "topic": name, "owner": "platform",
                "partitions": partitions, "replication_factor": 3, "min_insync_replicas": 2,
                "retention_ms": retention, "retention_bytes": -1, "local_retention_ms": -2,
                "cleanup_policy": policy, "compression_type": "producer",
                "producer_codec": "lz4", "remote_storage_enable": False,
                "payload_kind": "avro", "raw_record_bytes": 300, "stored_record_bytes": 220.0,
                "base_bytes_in_per_second": rate, "growth_per_day": 0.0,
                "reader_profile": "streaming", "compact_keyspace_bytes": kept,
                "is_dlq": False, "is_idle": False, "over_partitioned": False,
                "is_platform": True})
    return pd.DataFrame(rows)


def _platform_groups(topics: pd.DataFrame) -> pd.DataFrame:
    """Connect's workers read its topics; a service reads its compacted ledger, live."""
    readers = {name: group for name, *_, group in PLATFORM_TOPICS if group is not None}
    mine = topics[topics["is_platform"] & topics["topic"].isin(list(readers))]
    return pd.DataFrame({
        "cluster": mine["cluster"].to_numpy(), "topic": mine["topic"].to_numpy(),
        "topic_partitions": mine["partitions"].to_numpy(),
        "group": [readers[t] for t in mine["topic"]], "kind": "streaming",
        "members": 3, "typical_lag_seconds": 1.0, "peak_lag_seconds": 30.0,
        "abandoned_days_ago": 0.0, "state": "Stable"})


def _generate_groups(rng: np.random.Generator, spec: FleetSpec,
                     topics: pd.DataFrame) -> pd.DataFrame:
    """Consumer groups as (cluster, group, topic) rows: a service reads several topics of one
    cluster; popular topics are read by many services (fan-out)."""
    n_groups = spec.consumer_groups
    group_cluster = rng.choice(topics["cluster"].unique(), size=n_groups)
    abandoned = rng.random(n_groups) < spec.abandoned_group_share
    group_team = rng.choice(TEAMS, size=n_groups)
    rows: list[pd.DataFrame] = []
    readable = topics[~topics["is_idle"] & ~topics["is_dlq"] & ~topics["is_platform"]]
    by_cluster = dict(list(readable.groupby("cluster")))
    # Topic popularity for fan-out: Zipf-like weights.
    for cluster, frame in by_cluster.items():
        members = np.flatnonzero(group_cluster == cluster)
        live = members[~abandoned[members]]
        if len(live) == 0:
            continue
        popularity = rng.pareto(1.2, size=len(frame)) + 0.1
        popularity /= popularity.sum()
        # Every readable topic gets one live owning reader; extra services add fan-out, and
        # some of those services are gone (abandoned groups).
        owner_group = live[rng.integers(0, len(live), size=len(frame))]
        extra_count = int(len(frame) * 0.6)
        extra_topics = rng.choice(len(frame), size=extra_count, p=popularity)
        extra_group = members[rng.integers(0, len(members), size=extra_count)]
        topic_index = np.concatenate([np.arange(len(frame)), extra_topics])
        group_index = np.concatenate([owner_group, extra_group])
        pairs = pd.DataFrame({"g": group_index, "t": topic_index}).drop_duplicates()
        chosen = frame.iloc[pairs["t"].to_numpy()]
        rows.append(pd.DataFrame({
            "cluster": cluster,
            "gidx": pairs["g"].to_numpy(),
            "topic": chosen["topic"].to_numpy(),
            "topic_partitions": chosen["partitions"].to_numpy(),
            "reader_profile": chosen["reader_profile"].to_numpy(),
            "is_owner": np.arange(len(pairs)) < len(frame),
        }))
    # Groups that read nothing readable in their cluster still exist (a dead service).
    groups = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["cluster", "gidx", "topic", "topic_partitions", "reader_profile", "is_owner"])
    # A service may own several groups (`<team>-svc-<service>-g<n>`), when the spec says
    # how many services there are.
    services = spec.services
    groups["group"] = [f"{group_team[g]}-svc-{g}" if not services else
                       f"{group_team[g % services]}-svc-{g % services}-g{g // services}"
                       for g in groups["gidx"]]
    is_abandoned = abandoned[groups["gidx"].to_numpy()]
    kind = np.where(groups["is_owner"], groups["reader_profile"], "streaming")
    kind = np.where(is_abandoned, "abandoned", kind)
    groups["kind"] = kind
    partitions = groups["topic_partitions"].to_numpy()
    # Readers use most of a topic's partitions, except on topics "created for the future",
    # where a handful of consumers face dozens of partitions.
    # (Topic names are unique across the fleet.)
    planted_over = groups["topic"].isin(
        topics.loc[topics["over_partitioned"], "topic"]).to_numpy()
    members = np.maximum(1, np.round(partitions * rng.uniform(0.6, 1.0, size=len(groups))))
    members = np.where(planted_over, rng.integers(1, 5, size=len(groups)), members)
    groups["members"] = np.where(kind == "abandoned", 0, members).astype(np.int64)
    # Typical and peak lag (seconds) per reader kind.
    typical = np.select(
        [kind == "streaming", kind == "daily_batch", kind == "weekly_batch", kind == "audit"],
        [rng.lognormal(np.log(5), 1.0, size=len(groups)), 12 * 3600.0, 3.5 * 86400.0,
         14 * 86400.0], default=0.0)
    peak = np.select(
        [kind == "streaming", kind == "daily_batch", kind == "weekly_batch", kind == "audit"],
        [typical * 20, rng.uniform(26, 30, size=len(groups)) * 3600.0,
         rng.uniform(6.8, 7.0, size=len(groups)) * 86400.0,
         rng.uniform(55, 85, size=len(groups)) * 86400.0], default=0.0)
    groups["typical_lag_seconds"] = typical
    groups["peak_lag_seconds"] = peak
    groups["abandoned_days_ago"] = np.where(kind == "abandoned",
                                            rng.uniform(20, 200, size=len(groups)), 0.0)
    groups["state"] = np.where(kind == "abandoned", "Empty", "Stable")
    return groups.drop(columns=["gidx", "is_owner", "reader_profile"]).reset_index(drop=True)


def _size_clusters(rng: np.random.Generator, cluster_names: list[str],
                   topics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brokers per cluster, sized like an operator would: disk for retained bytes × RF at
    50–70% full, network headroom, at most 4,000 partition replicas per broker, a multiple of
    three zones. One cluster in five is sized generously, at 30–40% (a broker-sizing finding)."""
    retained = steady_state_log_size_bytes(topics) * topics["replication_factor"]
    cluster_rows: list[dict[str, Any]] = []
    broker_rows: list[dict[str, Any]] = []
    for index, name in enumerate(cluster_names):
        mine = topics["cluster"] == name
        catalog, instance, disk, network = CLUSTER_SHAPES[index % len(CLUSTER_SHAPES)]
        # Sized "by rule of thumb" (cruise-control #1435): about twice what it needs.
        target_fill = rng.uniform(0.5, 0.7) if index % 5 else rng.uniform(0.3, 0.4)
        stored = float(retained[mine].sum())
        throughput = float((topics.loc[mine, "base_bytes_in_per_second"]
                            * (topics.loc[mine, "replication_factor"]
                               + topics.loc[mine, "active_readers"])).sum())
        replicas = int((topics.loc[mine, "partitions"]
                        * topics.loc[mine, "replication_factor"]).sum())
        needed = max(3, int(np.ceil(stored / (disk * target_fill))),
                     int(np.ceil(throughput / (network * 0.6))),
                     int(np.ceil(replicas / 4000)))
        broker_count = int(np.ceil(needed / 3) * 3)
        cluster_rows.append({"cluster": name, "catalog": catalog,
                             "region": AWS_REGIONS[name.split("-")[0]],
                             "tiered_storage": bool(topics.loc[mine, "remote_storage_enable"]
                                                    .any()),
                             "instance_type": instance,
                             "brokers": broker_count, "zones": 3,
                             "rack_aware_fetch": index % 4 == 3})
        cpu = min(0.95, 0.08 + 0.7 * throughput / (broker_count * network))
        broker_rows.extend({
            "cluster": name, "broker_id": broker_id + 1,
            "rack": f"{name.split('-')[0]}-az{broker_id % 3 + 1}",
            "instance_type": instance, "disk_capacity_bytes": disk,
            "cpu_utilisation": float(np.clip(cpu * rng.uniform(0.85, 1.15), 0.02, 0.99)),
        } for broker_id in range(broker_count))
    return pd.DataFrame(cluster_rows), pd.DataFrame(broker_rows)


def _confluent_clusters(cluster_names: list[str], topics: pd.DataFrame
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confluent Cloud clusters: no brokers to see, only the capacity unit billed. Elastic
    clusters (eCKUs) get one row standing for the unit; a Dedicated cluster a row per CKU,
    sized at twice what its load needs, at least `MIN_PLANTED_CKUS`."""
    shapes = {name: (catalog, unit) for name, catalog, unit in CONFLUENT_SHAPES}
    cluster_rows: list[dict[str, Any]] = []
    broker_rows: list[dict[str, Any]] = []
    for name in cluster_names:
        catalog, unit = shapes[name]
        mine = topics["cluster"] == name
        units = 1
        if not unit.startswith("eCKU"):
            rate_in = float(topics.loc[mine, "base_bytes_in_per_second"].sum())
            rate_out = float((topics.loc[mine, "base_bytes_in_per_second"]
                              * topics.loc[mine, "active_readers"]).sum())
            needed = max(rate_in / CKU_CAPACITY[0], rate_out / CKU_CAPACITY[1],
                         float(topics.loc[mine, "partitions"].sum()) / CKU_CAPACITY[2])
            units = max(MIN_PLANTED_CKUS, int(np.ceil(2 * needed)))
        cluster_rows.append({"cluster": name, "catalog": catalog, "region": None,
                             "tiered_storage": False, "instance_type": unit,
                             "brokers": units, "zones": 1, "rack_aware_fetch": False})
        broker_rows.extend({"cluster": name, "broker_id": index + 1, "rack": None,
                            "instance_type": unit, "disk_capacity_bytes": 0,
                            "cpu_utilisation": None} for index in range(units))
    return pd.DataFrame(cluster_rows), pd.DataFrame(broker_rows)


_SERVICE = r"^(?P<service>[A-Za-z]+-svc-\d+)(?:-g\d+)?$"


def principal_id_of(display_name: str) -> str:
    """A stable Confluent-style service account id (`sa-` and six base-36 characters)."""
    value = stable_seed("principal", display_name)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    for _ in range(6):
        value, rest = divmod(value, 36)
        text += digits[rest]
    return f"sa-{text}"


def _plant_principals(rng: np.random.Generator, topics: pd.DataFrame, groups: pd.DataFrame
                      ) -> pd.DataFrame:
    """Each service authenticates as its own service account. A topic is written by one to
    three services (its owner team's first where the team has one), in planted shares; it is
    read by the services whose live consumer groups read it, each group all of its bytes."""
    service = groups["group"].str.extract(_SERVICE)["service"]
    live = groups.assign(service=service)[service.notna() & (groups["kind"] != "abandoned")]
    services = sorted(set(service.dropna()))
    if not services:
        return pd.DataFrame(columns=list(PRINCIPAL_COLUMNS))
    by_team: dict[str, list[str]] = {}
    for name in services:
        by_team.setdefault(name.split("-")[0], []).append(name)
    rows: list[dict[str, Any]] = []
    writable = topics[~topics["is_idle"]]
    counts = rng.choice([1, 2, 3], size=len(writable), p=(0.5, 0.35, 0.15))
    for (cluster, topic, owner), k in zip(
            writable[["cluster", "topic", "owner"]].itertuples(index=False, name=None), counts,
            strict=True):
        team = by_team.get(str(owner), [])
        first = [team[int(rng.integers(len(team)))]] if team else []
        others = [s for s in rng.choice(services, size=min(int(k), len(services)),
                                        replace=False) if s not in first]
        writers = (first + others)[:int(k)]
        shares = rng.dirichlet(np.full(len(writers), 2.0))
        rows.extend({"cluster": cluster, "topic": topic, "service": writer,
                     "produce_share": float(share), "readers": 0}
                    for writer, share in zip(writers, shares, strict=True))
    reads = live.groupby(["cluster", "topic", "service"]).size().rename("readers").reset_index()
    reads["produce_share"] = 0.0
    frame = pd.concat([pd.DataFrame(rows), reads], ignore_index=True)
    frame = frame.groupby(["cluster", "topic", "service"], as_index=False)[
        ["produce_share", "readers"]].sum()
    frame["display_name"] = frame["service"]
    ids = {name: principal_id_of(name) for name in services}
    if len(set(ids.values())) != len(ids):  # a clash of six base-36 characters: say so
        raise ValueError("simulated service account ids collide; change the fleet seed")
    frame["principal_id"] = frame["service"].map(ids)
    frame["readers"] = frame["readers"].astype(np.int64)
    return frame[list(PRINCIPAL_COLUMNS)].reset_index(drop=True)


def steady_state_log_size_bytes(topics: pd.DataFrame) -> pd.Series:
    """One replica's retained bytes at the base rate: rate × local retention, or the compacted
    keyspace; tiered topics keep only `local.retention.ms` on the brokers."""
    local_ms = np.where(topics["local_retention_ms"] >= 0, topics["local_retention_ms"],
                        topics["retention_ms"])
    by_time = topics["base_bytes_in_per_second"] * np.maximum(local_ms, 0) / 1000.0
    kept = topics["compact_keyspace_bytes"]  # a compacted keyspace, or an archive's old data
    return pd.Series(np.where(topics["cleanup_policy"] == "compact", kept,
                              np.maximum(by_time, kept)), index=topics.index)
