"""Collect one cluster: Prometheus and the Kafka Admin API → one snapshot, stored atomically.

Sources complement each other: Kafka gives configs, partitions, racks and group offsets;
Prometheus gives rates, sizes and history. Where a dialect lacks a figure (kafka_exporter has
no bytes, kminion no byte rates) it is estimated from what is there and the snapshot says so
in its labels (`estimated: ...`). Any source failing fails the whole collect: no partial
snapshot is ever stored, and the failure is recorded as a job run.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from costopt.config import ClusterSettings, Settings
from costopt.cost.links import MIRROR_TOPICS_LABEL, mirror_topics_label
from costopt.cost.zones import selector_is_rack_aware, with_zone_reads
from costopt.snapshot.cluster_snapshot import (
    LOCAL_RETENTION_SAME_AS_TOTAL,
    REPLICA_SELECTOR_LABEL,
    TIERED_SYSTEM_LABEL,
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    PrincipalTraffic,
    Topic,
    TopicBrokerTraffic,
)
from costopt.snapshot.commits import with_commit_times
from costopt.snapshot.labels import CROSS_REGION_EGRESS_LABEL, INTERNET_EGRESS_LABEL
from costopt.snapshot.metrics import SERIES_COLUMNS
from costopt.sources.kafka.admin import AdminData, KafkaAdminSource
from costopt.sources.prometheus.brokers import BrokerTopics, broker_topic_bytes
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import (
    CollectWindow,
    PrometheusData,
    collect_prometheus,
)
from costopt.sources.prometheus.query_plan import Census
from costopt.sources.source_errors import SourceError
from costopt.store import Store

SERIES_VALUE_COLUMNS = SERIES_COLUMNS
DEFAULT_RETENTION_MS = 7 * 86_400_000  # Kafka's default, when configs cannot be read


@dataclass(frozen=True)
class CollectResult:
    cluster: str
    job_id: str
    snapshot_id: int
    taken_at: datetime
    topics: int
    groups: int
    dialect: str | None
    seconds: float


def window_end(at: datetime, every_minutes: int) -> datetime:
    """Snapshots are keyed by window: `at` floored to the collect interval, so a re-run of
    the same window replaces it instead of adding one."""
    step = every_minutes * 60
    return datetime.fromtimestamp(int(at.timestamp()) // step * step, tz=UTC)


def _int(configs: dict[str, str], key: str, default: int) -> int:
    try:
        return int(configs[key])
    except (KeyError, ValueError):
        return default


Rows = dict[str, dict[str, float]]


def _rows(frame: pd.DataFrame) -> Rows:
    """Per-topic figures as plain dicts: looked up a dozen times per topic, and a pandas
    lookup costs microseconds where a dict's costs nanoseconds (50,000 topics a collect)."""
    return {str(topic): row for topic, row in frame.to_dict("index").items()}


def _value(rows: Rows, topic: str, column: str) -> float:
    value = rows.get(topic, {}).get(column)
    return float(value) if value is not None else math.nan


def _nan_to_num(value: float, nan: float = 0.0) -> float:
    """`numpy.nan_to_num` of one float (NaN to `nan`, infinities to the largest finite
    floats) without numpy's cost per call, which at 50,000 topics a collect is most of
    building the snapshot."""
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return math.copysign(sys.float_info.max, value)
    return value


def build_snapshot(cluster: ClusterSettings, taken_at: datetime,
                   prom: PrometheusData | None, admin: AdminData | None,
                   samples: dict[str, list[bytes]], broker_topics: BrokerTopics | None = None
                   ) -> tuple[ClusterSnapshot, pd.DataFrame]:
    estimated: set[str] = set()
    prom_topics = _rows(prom.topics) if prom is not None else {}
    names = sorted(admin.topics) if admin is not None else sorted(prom_topics)
    raw_groups = _groups(admin, prom)
    readers: dict[str, int] = {}
    for group in raw_groups:
        if group.members > 0:
            readers[group.topic] = readers.get(group.topic, 0) + 1
    topics = []
    for name in names:
        admin_topic = admin.topics.get(name) if admin is not None else None
        configs = admin_topic.configs if admin_topic is not None else {}
        partitions = admin_topic.partitions if admin_topic else int(
            _nan_to_num(_value(prom_topics, name, "partitions"), nan=1.0))
        rf = admin_topic.replication_factor if admin_topic else int(
            _nan_to_num(_value(prom_topics, name, "replication_factor"), nan=1.0))
        messages = _nan_to_num(_value(prom_topics, name, "messages_in_per_second"))
        bytes_in = _value(prom_topics, name, "bytes_in_per_second")
        bytes_out = _value(prom_topics, name, "bytes_out_per_second")
        log_size = _value(prom_topics, name, "log_size_bytes")
        per_message = _bytes_per_message(name, prom_topics, samples, log_size)
        if math.isnan(bytes_in):
            bytes_in = messages * per_message if per_message else 0.0
            estimated.add("bytes_in")
        if math.isnan(bytes_out):
            bytes_out = bytes_in * readers.get(name, 0)
            estimated.add("bytes_out")
        if math.isnan(log_size):
            retained = (sum(admin_topic.end_offsets.values())
                        - sum(admin_topic.start_offsets.values())) if admin_topic else 0
            log_size = retained * (per_message or 0.0)
            estimated.add("log_size")
        topics.append(Topic(
            name=name, partitions=partitions, replication_factor=rf,
            retention_ms=_int(configs, "retention.ms", DEFAULT_RETENTION_MS),
            retention_bytes=_int(configs, "retention.bytes", -1),
            cleanup_policy=configs.get("cleanup.policy", "delete"),
            compression_type=configs.get("compression.type", "producer"),
            min_insync_replicas=_int(configs, "min.insync.replicas", 1),
            remote_storage_enable=configs.get("remote.storage.enable", "false") == "true",
            local_retention_ms=_int(configs, "local.retention.ms",
                                    LOCAL_RETENTION_SAME_AS_TOTAL),
            segment_bytes=_int(configs, "segment.bytes", 1_073_741_824),
            bytes_in_per_second=float(bytes_in), bytes_out_per_second=float(bytes_out),
            messages_in_per_second=float(messages), log_size_bytes=int(log_size)))
    rates = {t.name: t.messages_in_per_second for t in topics}
    groups = tuple(ConsumerGroup(
        group=g.group, topic=g.topic, lag_messages=g.lag_messages,
        lag_seconds=(g.lag_messages / rates[g.topic]) if rates.get(g.topic) else None,
        max_lag_seconds=((g.max_lag_seconds or g.lag_messages) / rates[g.topic])
        if rates.get(g.topic) else None,
        members=g.members, state=g.state, committed_offset_sum=g.committed_offset_sum)
        for g in raw_groups if g.topic in rates)
    labels = {"dialect": prom.dialect if prom is not None else "none"}
    if cluster.bootstrap_servers:
        labels["bootstrap_servers"] = cluster.bootstrap_servers
    if estimated:
        labels["estimated"] = ",".join(sorted(estimated))
    if prom is not None and prom.not_measured:
        # Figures the source cannot give (Confluent Cloud: no broker CPU or disk), and why.
        labels["not_measured"] = ",".join(sorted(prom.not_measured))
        labels.update({f"not_measured.{figure}": why
                       for figure, why in prom.not_measured.items()})
    labels.update(pricing_labels(cluster, admin))
    selector_on = rack_aware_fetch(cluster, admin)
    snapshot = ClusterSnapshot(
        cluster=cluster.name, taken_at=taken_at, window_seconds=cluster.window_seconds,
        brokers=_brokers(cluster, admin, prom, topics), topics=tuple(topics), groups=groups,
        rack_aware_fetch=bool(selector_on), labels=labels, principals=_principals(prom),
        leaders={name: t.leaders for name, t in admin.topics.items() if t.leaders}
        if admin is not None else {},
        broker_traffic=_broker_traffic(broker_topics, admin))
    snapshot = with_zone_reads(snapshot, selector_on)
    series = prom.series if prom is not None else pd.DataFrame()
    if not series.empty:
        series = _fill_series(series, topics)
    return snapshot, series


def rack_aware_fetch(cluster: ClusterSettings, admin: AdminData | None) -> bool | None:
    """Whether the brokers serve consumers from a replica in their zone: the configuration's
    override, else the brokers' `replica.selector.class` as read; None where neither says."""
    if cluster.rack_aware_fetch is not None:
        return cluster.rack_aware_fetch
    if admin is None:
        return None
    return selector_is_rack_aware(admin.broker_configs.get(REPLICA_SELECTOR_LABEL))


def _broker_traffic(broker_topics: BrokerTopics | None, admin: AdminData | None
                    ) -> tuple[TopicBrokerTraffic, ...]:
    """Per topic and broker, bytes in and out, where Prometheus scraped each broker apart and
    every scrape target with bytes maps to one broker the Admin API knows
    (`sources/prometheus/brokers.py`); nothing otherwise (then nothing is measured)."""
    if broker_topics is None or not broker_topics.complete:
        return ()
    known = {b.broker_id for b in admin.brokers} if admin is not None else set()
    rows = [TopicBrokerTraffic(str(row.topic), int(row.broker_id),
                               float(np.nan_to_num(row.bytes_in_per_second)),
                               float(np.nan_to_num(row.bytes_out_per_second)))
            for row in broker_topics.frame.itertuples(index=False)]
    if any(row.broker_id not in known for row in rows):
        return ()
    return tuple(rows)


def _principals(prom: PrometheusData | None) -> tuple[PrincipalTraffic, ...]:
    """Bytes per principal as the source measured them: for the whole cluster (Confluent's
    request and response bytes carry no topic)."""
    if prom is None or prom.principals.empty:
        return ()
    return tuple(PrincipalTraffic(principal_id=str(row.principal_id), topic=None,
                                  bytes_in_per_second=float(row.bytes_in_per_second),
                                  bytes_out_per_second=float(row.bytes_out_per_second))
                 for row in prom.principals.itertuples(index=False))


def pricing_labels(cluster: ClusterSettings, admin: AdminData | None) -> dict[str, str]:
    """What pricing needs to know of the cluster beyond its topics: whether the brokers run
    tiered storage (the configuration wins over the broker setting Kafka reports), the
    shares of reads that leave the region, and the topics it mirrors over cluster links."""
    labels: dict[str, str] = {}
    tiered = cluster.tiered_storage
    if tiered is None and admin is not None:
        reported = admin.broker_configs.get(TIERED_SYSTEM_LABEL)
        tiered = None if reported is None else reported.strip().lower() == "true"
    if tiered is not None:
        labels[TIERED_SYSTEM_LABEL] = "true" if tiered else "false"
    if admin is not None and REPLICA_SELECTOR_LABEL in admin.broker_configs:
        labels[REPLICA_SELECTOR_LABEL] = admin.broker_configs[REPLICA_SELECTOR_LABEL]
    if cluster.internet_egress_share:
        labels[INTERNET_EGRESS_LABEL] = str(cluster.internet_egress_share)
    if cluster.cross_region_egress_share:
        labels[CROSS_REGION_EGRESS_LABEL] = str(cluster.cross_region_egress_share)
    if cluster.mirror_topics:
        labels[MIRROR_TOPICS_LABEL] = mirror_topics_label(cluster.mirror_topics)
    return labels


def _bytes_per_message(name: str, prom_topics: Rows,
                       samples: dict[str, list[bytes]], log_size: float) -> float | None:
    retained = _value(prom_topics, name, "retained_messages")
    if not math.isnan(log_size) and retained and not math.isnan(retained) and retained > 0:
        return log_size / retained
    records = samples.get(name)
    if records:
        return sum(len(r) for r in records) / len(records)
    return None


def _fill_series(series: pd.DataFrame, topics: list[Topic]) -> pd.DataFrame:
    """History where the dialect has no byte figures: scale messages by bytes per message."""
    per_message = {t.name: (t.bytes_in_per_second / t.messages_in_per_second
                            if t.messages_in_per_second else 0.0) for t in topics}
    out_ratio = {t.name: (t.bytes_out_per_second / t.bytes_in_per_second
                          if t.bytes_in_per_second else 0.0) for t in topics}
    size = {t.name: float(t.log_size_bytes) for t in topics}
    series = series[series["topic"].isin(per_message)].copy()
    for column in SERIES_VALUE_COLUMNS:
        series[column] = series[column].astype(float)
    missing = series["bytes_in_per_second"].isna()
    if missing.any():
        series.loc[missing, "bytes_in_per_second"] = (
            series.loc[missing, "messages_in_per_second"]
            * series.loc[missing, "topic"].map(per_message).astype(float))
    missing = series["bytes_out_per_second"].isna()
    if missing.any():
        series.loc[missing, "bytes_out_per_second"] = (
            series.loc[missing, "bytes_in_per_second"]
            * series.loc[missing, "topic"].map(out_ratio).astype(float))
    missing = series["log_size_bytes"].isna()
    if missing.any():
        series.loc[missing, "log_size_bytes"] = series.loc[missing, "topic"].map(size).astype(
            float)
    return series.fillna(0.0)


@dataclass(frozen=True)
class _Group:
    group: str
    topic: str
    lag_messages: int
    max_lag_seconds: float | None  # here: max lag in messages (converted later)
    members: int
    state: str
    committed_offset_sum: int | None


def _groups(admin: AdminData | None, prom: PrometheusData | None) -> list[_Group]:
    prom_groups = prom.groups if prom is not None else pd.DataFrame()
    prom_max = {(r.group, r.topic): r.max_lag_messages
                for r in prom_groups.itertuples(index=False)} if not prom_groups.empty else {}
    out: list[_Group] = []
    if admin is not None:
        for group in admin.groups:
            by_topic: dict[str, tuple[int, int]] = {}
            for (topic, partition), committed in group.committed.items():
                end = admin.topics[topic].end_offsets.get(partition, committed) \
                    if topic in admin.topics else committed
                lag, total = by_topic.get(topic, (0, 0))
                by_topic[topic] = (lag + max(end - committed, 0), total + committed)
            for topic, (lag, committed_sum) in by_topic.items():
                peak = prom_max.get((group.group, topic))
                out.append(_Group(group.group, topic, lag,
                                  float(max(peak, lag)) if peak is not None else None,
                                  group.members, group.state, committed_sum))
        return out
    out.extend(_Group(str(row.group), str(row.topic), int(row.lag_messages),
                      float(row.max_lag_messages) if not math.isnan(row.max_lag_messages)
                      else None, int(row.members),
                      "Stable" if row.members > 0 else "Empty", None)
               for row in prom_groups.itertuples(index=False))
    return out


def _brokers(cluster: ClusterSettings, admin: AdminData | None, prom: PrometheusData | None,
             topics: list[Topic]) -> tuple[Broker, ...]:
    prom_brokers = prom.brokers if prom is not None else pd.DataFrame()
    if admin is not None:
        identities = [(b.broker_id, b.rack) for b in admin.brokers]
    else:
        count = cluster.broker_count or max(len(prom_brokers), 1)
        identities = [(i + 1, None) for i in range(count)]
    count = len(identities)
    measured = (float(prom_brokers["disk_used_bytes"].sum())
                if not prom_brokers.empty and prom_brokers["disk_used_bytes"].notna().any()
                else sum(t.log_size_bytes * t.replication_factor for t in topics))
    cpu = (float(prom_brokers["cpu_utilisation"].mean())
           if not prom_brokers.empty and prom_brokers["cpu_utilisation"].notna().any() else None)
    capacity = cluster.disk_capacity_bytes or max(int(measured / count / 0.5), 1)
    replicas = sum(t.partitions * t.replication_factor for t in topics) // max(count, 1)
    return tuple(Broker(broker_id=broker_id, rack=rack,
                        instance_type=cluster.instance_type or "unknown",
                        volume_type=cluster.volume_type,
                        disk_capacity_bytes=capacity, disk_used_bytes=int(measured / count),
                        cpu_utilisation=cpu, partition_replicas=replicas)
                 for broker_id, rack in identities)


@dataclass(frozen=True)
class Gathered:
    """What the sources said about one cluster for one window, before it is stored."""

    snapshot: ClusterSnapshot
    series: pd.DataFrame
    samples: dict[str, list[bytes]]
    dialect: str | None
    census: Census | None = None  # Prometheus's series as counted (or reused) for the plan


def gather(cluster: ClusterSettings, settings: Settings, taken_at: datetime,
           since: datetime | None = None,
           progress: Callable[[str], None] | None = None,
           census: Census | None = None) -> Gathered:
    """Read Prometheus and the Kafka Admin API for the window ending at `taken_at` and build
    the snapshot (nothing stored). `since`: fetch history only after it (incremental);
    `census`: the last collect's census of the cluster's series, which it may reuse."""
    say = progress or (lambda _message: None)
    prom, client = None, None
    if cluster.prometheus is not None:
        say(f"{cluster.name}: querying Prometheus ({cluster.prometheus.url})")
        client = PrometheusClient(cluster.prometheus, cluster.name)
        prom = collect_prometheus(client, CollectWindow(
            at=taken_at, window_seconds=cluster.window_seconds,
            lookback_seconds=cluster.lookback_seconds,
            history_days=settings.schedule.history_days, hourly_days=cluster.hourly_days,
            since=since), dialect=cluster.prometheus.dialect, progress=progress, census=census)
    admin = None
    samples: dict[str, list[bytes]] = {}
    if cluster.bootstrap_servers is not None:
        say(f"{cluster.name}: reading topics, configs and groups from Kafka")
        source = KafkaAdminSource(cluster)
        admin = source.describe()
        busiest = sorted(admin.topics.values(), key=lambda t: -(
            t.end_offset_sum - sum(t.start_offsets.values())))
        sampled = [t for t in busiest if not t.name.startswith("__")][:50]
        say(f"{cluster.name}: sampling records of {len(sampled)} topics")
        samples = source.sample(sampled, cluster.sample_records_per_topic)
    if prom is None and admin is None:
        raise SourceError(f"cluster {cluster.name}: neither prometheus nor "
                          "bootstrap_servers is configured")
    broker_topics = None
    if client is not None and prom is not None and admin is not None \
            and len({b.rack for b in admin.brokers}) > 1:
        say(f"{cluster.name}: reading bytes per broker (cross-zone reads)")
        broker_topics = broker_topic_bytes(
            client, client.selector, prom.dialect, taken_at, cluster.window_seconds,
            cluster.lookback_seconds,
            [(b.broker_id, b.host) for b in admin.brokers])
    snapshot, series = build_snapshot(cluster, taken_at, prom, admin, samples, broker_topics)
    return Gathered(snapshot, series, samples, prom.dialect if prom else None,
                    prom.census if prom else None)


def collect_cluster(cluster: ClusterSettings, store: Store, settings: Settings,
                    at: datetime | None = None, incremental: bool = True,
                    progress: Callable[[str], None] | None = None) -> CollectResult:
    """Collect, build and store one snapshot; the job run records success or the error."""
    started = time.monotonic()
    at = at or datetime.now(UTC)
    taken_at = window_end(at, settings.schedule.collect_every_minutes)
    job_id = store.start_job("collect", cluster.name, {"window": taken_at.isoformat()})
    try:
        since = (store.last_series_time(cluster.name)
                 if incremental and cluster.prometheus is not None else None)
        # The last collect's census, kept in its job run: an incremental collect may reuse
        # its counts of the raw series (collector.py `_census`).
        census = Census.from_record(store.last_succeeded_detail(
            "collect", cluster.name).get("census")) if since is not None else None
        gathered = gather(cluster, settings, taken_at, since, progress, census)
        snapshot = with_commit_times(gathered.snapshot, store.latest_groups(cluster.name))
        snapshot_id = store.save_snapshot(snapshot, catalog=cluster.catalog_ref,
                                          source="collect", series=gathered.series,
                                          samples=gathered.samples)
    except Exception as exc:
        store.finish_job(job_id, "failed", error=str(exc))
        raise
    seconds = time.monotonic() - started
    store.finish_job(job_id, "succeeded", detail={
        "window": taken_at.isoformat(), "topics": len(snapshot.topics),
        "groups": len(snapshot.groups), "seconds": round(seconds, 3),
        "dialect": gathered.dialect,
        **({"census": gathered.census.record()} if gathered.census is not None else {})})
    return CollectResult(cluster.name, job_id, snapshot_id, taken_at, len(snapshot.topics),
                         len(snapshot.groups), gathered.dialect, seconds)


def backfill_windows(last: datetime | None, now: datetime, every_minutes: int,
                     limit: int = 96) -> list[datetime]:
    """Windows missed since `last` (a scheduler that was down), oldest first, at most `limit`."""
    if last is None:
        return [window_end(now, every_minutes)]
    step = timedelta(minutes=every_minutes)
    windows: list[datetime] = []
    moment = window_end(last, every_minutes) + step
    end = window_end(now, every_minutes)
    while moment <= end and len(windows) < limit:
        windows.append(moment)
        moment += step
    return windows[-limit:]
