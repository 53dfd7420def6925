"""Turn a simulated fleet into the snapshots and history series that costopt's store holds,
exactly as a collect would have produced them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import pandas as pd

from costopt.cost.links import MIRROR_TOPICS_LABEL, mirror_topics_label
from costopt.prices.catalog import catalog_ref
from costopt.simulate.fleet import Fleet, stable_seed
from costopt.simulate.plants import fleet_before
from costopt.simulate.series import SeriesBlock, cluster_series
from costopt.snapshot.cluster_snapshot import (
    TIERED_SYSTEM_LABEL,
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    PrincipalTraffic,
    Topic,
)

SNAPSHOT_WINDOW_HOURS = 24
MIRRORED_TOPICS = 5  # a Confluent Dedicated cluster's topics mirrored in over a link
# Disk used beyond the topics' logs (indexes, snapshots, metadata): an unallocated share.
DISK_OVERHEAD_SHARE = 0.03


@dataclass(frozen=True)
class SimulatedCluster:
    snapshot: ClusterSnapshot
    catalog: str
    series: SeriesBlock
    group_history: pd.DataFrame  # what the window's snapshots recorded of each group


def _topics(block: SeriesBlock) -> tuple[Topic, ...]:
    window = slice(-SNAPSHOT_WINDOW_HOURS, None)
    bytes_in = block.bytes_in_per_second[:, window].mean(axis=1)
    bytes_out = block.bytes_out_per_second[:, window].mean(axis=1)
    messages_in = block.messages_in_per_second[:, window].mean(axis=1)
    log_size = block.log_size_bytes[:, -1]
    frame = block.topics
    tiered = frame["remote_storage_enable"].to_numpy()
    total_ms = frame["retention_ms"].to_numpy()
    local_ms = np.where(frame["local_retention_ms"] >= 0, frame["local_retention_ms"], total_ms)
    remote = np.where(tiered, log_size * np.maximum(total_ms - local_ms, 0) / np.maximum(
        local_ms, 1), 0.0)
    return tuple(
        Topic(name=row.topic, partitions=int(row.partitions),
              replication_factor=int(row.replication_factor),
              retention_ms=int(row.retention_ms), retention_bytes=int(row.retention_bytes),
              cleanup_policy=row.cleanup_policy, compression_type=row.compression_type,
              min_insync_replicas=int(row.min_insync_replicas),
              remote_storage_enable=bool(row.remote_storage_enable),
              local_retention_ms=int(row.local_retention_ms),
              bytes_in_per_second=float(bytes_in[i]), bytes_out_per_second=float(bytes_out[i]),
              messages_in_per_second=float(messages_in[i]), log_size_bytes=int(log_size[i]),
              remote_log_size_bytes=int(remote[i]))
        for i, row in enumerate(frame.itertuples(index=False))
    )


BATCH_CYCLE_SECONDS = {"daily_batch": 86_400.0, "weekly_batch": 7 * 86_400.0}
BATCH_RUN_SHARE = 0.03  # a batch job runs for 3% of its cycle: Empty the rest of the time


def _groups(fleet: Fleet, cluster: str, topics: dict[str, Topic]) -> tuple[ConsumerGroup, ...]:
    """Groups as Kafka describes them at the snapshot: batch jobs are Empty between runs, with
    their last commit at the end of their last run."""
    rows = fleet.groups[fleet.groups["cluster"] == cluster]
    rng = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, "lag"))
    phase = rng.random(len(rows))
    taken = fleet.end
    groups = []
    for i, row in enumerate(rows.itertuples(index=False)):
        topic = topics[row.topic]
        members, state, last_commit = int(row.members), str(row.state), taken
        if row.kind == "abandoned":
            lag_seconds = max_lag = row.abandoned_days_ago * 86_400.0
            last_commit = taken - timedelta(days=float(row.abandoned_days_ago))
        elif row.kind in BATCH_CYCLE_SECONDS:  # somewhere in their sawtooth
            lag_seconds, max_lag = row.peak_lag_seconds * phase[i], row.peak_lag_seconds
            if phase[i] < 1 - BATCH_RUN_SHARE:
                members, state = 0, "Empty"
                last_commit = taken - timedelta(
                    seconds=float(phase[i]) * BATCH_CYCLE_SECONDS[row.kind])
        else:
            lag_seconds, max_lag = row.typical_lag_seconds, row.peak_lag_seconds
        lag_messages = int(topic.messages_in_per_second * lag_seconds)
        groups.append(ConsumerGroup(
            group=row.group, topic=row.topic, lag_messages=lag_messages,
            lag_seconds=float(lag_seconds), max_lag_seconds=float(max_lag),
            members=members, state=state, last_commit_at=last_commit,
            bytes_out_per_second=0.0 if row.kind == "abandoned" else topic.bytes_in_per_second))
    return tuple(groups)


def _group_history(fleet: Fleet, cluster: str, groups: tuple[ConsumerGroup, ...]
                   ) -> pd.DataFrame:
    """What a month of snapshots would have recorded of each group: the most members it ran
    with, its peak lag, its last commit (as `Store.group_history` gives it)."""
    rows = fleet.groups[fleet.groups["cluster"] == cluster]
    return pd.DataFrame({
        "group": rows["group"].to_numpy(), "topic": rows["topic"].to_numpy(),
        "max_lag_seconds": rows["peak_lag_seconds"].to_numpy(dtype=float),
        "last_commit_at": pd.to_datetime([g.last_commit_at for g in groups], utc=True),
        "max_members": rows["members"].to_numpy(),
        "first_seen": pd.Timestamp(fleet.start), "last_seen": pd.Timestamp(fleet.end)})


def _brokers(fleet: Fleet, cluster: str, topics: tuple[Topic, ...]) -> tuple[Broker, ...]:
    rows = fleet.brokers[fleet.brokers["cluster"] == cluster]
    if fleet.is_confluent:  # the capacity unit billed; Confluent shows no broker CPU or disk
        return tuple(Broker(broker_id=int(row.broker_id), rack=None,
                            instance_type=str(row.instance_type), disk_capacity_bytes=0)
                     for row in rows.itertuples(index=False))
    used = sum(t.log_size_bytes * t.replication_factor for t in topics)
    per_broker_used = int(used * (1 + DISK_OVERHEAD_SHARE) / max(len(rows), 1))
    replicas = sum(t.partitions * t.replication_factor for t in topics) // max(len(rows), 1)
    return tuple(
        Broker(broker_id=int(row.broker_id), rack=row.rack, instance_type=row.instance_type,
               disk_capacity_bytes=int(row.disk_capacity_bytes),
               disk_used_bytes=per_broker_used, cpu_utilisation=float(row.cpu_utilisation),
               partition_replicas=int(replicas))
        for row in rows.itertuples(index=False)
    )


def principal_traffic(fleet: Fleet, cluster: str, topics: dict[str, Topic]
                      ) -> tuple[PrincipalTraffic, ...]:
    """Bytes each service account wrote to and read from each topic over the window, as
    planted: its share of the topic's bytes in, and the topic's bytes in once per live
    consumer group of its own that reads the topic (what each group fetches)."""
    rows = fleet.principals[fleet.principals["cluster"] == cluster]
    return tuple(
        PrincipalTraffic(principal_id=str(row.principal_id), topic=str(row.topic),
                         bytes_in_per_second=float(row.produce_share)
                         * topics[row.topic].bytes_in_per_second,
                         bytes_out_per_second=int(row.readers)
                         * topics[row.topic].bytes_in_per_second,
                         display_name=str(row.display_name))
        for row in rows.itertuples(index=False))


def _mirror_label(unit: str, topics: Sequence[Topic]) -> dict[str, str]:
    """A Confluent Dedicated cluster (billed in CKUs) mirrors its `MIRRORED_TOPICS` busiest
    topics in over one cluster link: they carry its Cluster Linking bill (`cost/links.py`)."""
    if unit != "CKU":
        return {}
    busiest = sorted((t for t in topics if not t.is_internal),
                     key=lambda t: (-t.bytes_in_per_second, t.name))[:MIRRORED_TOPICS]
    return {MIRROR_TOPICS_LABEL: mirror_topics_label([t.name for t in busiest])}


def simulate_cluster(fleet: Fleet, cluster: str) -> SimulatedCluster:
    block = cluster_series(fleet, cluster)
    topics = _topics(block)
    by_name = {topic.name: topic for topic in topics}
    meta = fleet.clusters.set_index("cluster").loc[cluster]
    groups = _groups(fleet, cluster, by_name)
    snapshot = ClusterSnapshot(
        cluster=cluster, taken_at=fleet.end.replace(tzinfo=fleet.end.tzinfo),
        window_seconds=SNAPSHOT_WINDOW_HOURS * 3600,
        brokers=_brokers(fleet, cluster, topics), topics=topics, groups=groups,
        rack_aware_fetch=bool(meta["rack_aware_fetch"]),
        labels={TIERED_SYSTEM_LABEL: "true" if meta["tiered_storage"] else "false",
                **_mirror_label(str(meta["instance_type"]), topics)},
        principals=principal_traffic(fleet, cluster, by_name),
    )
    region = meta["region"]
    return SimulatedCluster(snapshot, catalog_ref(str(meta["catalog"]),
                                                  str(region) if region else None),
                            block,
                            _group_history(fleet, cluster, groups))


def snapshots_before(fleet: Fleet, block: SeriesBlock) -> list[ClusterSnapshot]:
    """The snapshot a collect stored just before each change planted in the block's cluster
    (its window the day before), so the change shows between two snapshots."""
    found = []
    for change in fleet.changes:
        if change.cluster != block.cluster:
            continue
        earlier = fleet_before(fleet, change)
        keep = int((block.hours < pd.Timestamp(change.at)).sum())
        topics_frame = earlier.topics[earlier.topics["cluster"] == block.cluster].reset_index(
            drop=True)
        cut = replace(block, topics=topics_frame, hours=block.hours[:keep],
                      **{name: getattr(block, name)[:, :keep] for name in (
                          "bytes_in_per_second", "bytes_out_per_second",
                          "messages_in_per_second", "log_size_bytes")})
        topics = _topics(cut)
        by_name = {topic.name: topic for topic in topics}
        meta = earlier.clusters.set_index("cluster").loc[block.cluster]
        found.append(ClusterSnapshot(
            cluster=block.cluster, taken_at=change.at, window_seconds=SNAPSHOT_WINDOW_HOURS * 3600,
            brokers=_brokers(earlier, block.cluster, topics),
            topics=topics, groups=_groups(earlier, block.cluster, by_name),
            rack_aware_fetch=bool(meta["rack_aware_fetch"]),
            labels={TIERED_SYSTEM_LABEL: "true" if meta["tiered_storage"] else "false"},
            principals=principal_traffic(earlier, block.cluster, by_name)))
    return found


def simulate_clusters(fleet: Fleet) -> Iterator[SimulatedCluster]:
    for cluster in fleet.clusters["cluster"]:
        yield simulate_cluster(fleet, cluster)


def history_frame(block: SeriesBlock, hourly_days: int = 7) -> pd.DataFrame:
    """Series as the store keeps them: daily means for the whole history and hourly points for
    the last `hourly_days` (what a collect fetches: hourly everywhere is too costly at scale)."""
    topics = block.topics["topic"].to_numpy()
    hours = block.hours
    days = hours.floor("D")
    frames = []
    unique_days = days.unique()
    day_index = np.searchsorted(unique_days.to_numpy(), days.to_numpy())
    counts = np.bincount(day_index)
    metrics = {
        "bytes_in_per_second": block.bytes_in_per_second,
        "bytes_out_per_second": block.bytes_out_per_second,
        "messages_in_per_second": block.messages_in_per_second,
        "log_size_bytes": block.log_size_bytes,
    }
    daily = {}
    for name, values in metrics.items():
        sums = np.zeros((len(topics), len(unique_days)), dtype=np.float64)
        np.add.at(sums.T, day_index, values.T)
        daily[name] = (sums / counts[None, :]).ravel()
    frames.append(pd.DataFrame({
        "cluster": block.cluster, "topic": np.repeat(topics, len(unique_days)),
        "ts": np.tile(unique_days.to_numpy(), len(topics)), "resolution_seconds": 86_400,
        **daily}))
    recent = hours >= hours[-1] - pd.Timedelta(days=hourly_days) + pd.Timedelta(hours=1)
    cols = int(recent.sum())
    frames.append(pd.DataFrame({
        "cluster": block.cluster, "topic": np.repeat(topics, cols),
        "ts": np.tile(hours[recent].to_numpy(), len(topics)), "resolution_seconds": 3_600,
        **{name: values[:, recent].astype(np.float64).ravel()
           for name, values in metrics.items()}}))
    return pd.concat(frames, ignore_index=True)
