"""Typed snapshot values. Usage figures are averages over the snapshot's window, in per-second
units. Sizes are in bytes of one replica unless the name says otherwise.

Partitions are kept as counts per topic, not as 200,000 objects: nothing costopt computes needs
a single partition, and fleet-wide work must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from costopt.base.pickling import SlotsPickle

RETENTION_FOREVER = -1
# The broker setting that turns tiered storage (KIP-405) on for a cluster, kept as a snapshot
# label ("true"/"false") where Kafka or the configuration tells.
TIERED_SYSTEM_LABEL = "remote.log.storage.system.enable"
# The broker setting that lets consumers fetch from a follower in their own zone (KIP-392), kept
# as a snapshot label with the class name the brokers report (empty: none set).
REPLICA_SELECTOR_LABEL = "replica.selector.class"
RACK_AWARE_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
LOCAL_RETENTION_SAME_AS_TOTAL = -2


@dataclass(frozen=True, slots=True)
class Broker(SlotsPickle):
    broker_id: int
    rack: str | None
    instance_type: str
    disk_capacity_bytes: int
    disk_used_bytes: int | None = None
    cpu_utilisation: float | None = None  # 0..1, averaged over the window
    partition_replicas: int | None = None
    provisioned_throughput_mibps: float | None = None  # priced where the disk is (EBS gp3)
    volume_type: str | None = None  # gp3, st1, sc1, ...: None is the catalog's default disk


@dataclass(frozen=True, slots=True)
class Topic(SlotsPickle):
    name: str
    partitions: int
    replication_factor: int
    retention_ms: int = 7 * 24 * 3_600_000
    retention_bytes: int = -1  # per partition, -1 = no size limit
    cleanup_policy: str = "delete"
    compression_type: str = "producer"
    min_insync_replicas: int = 1
    remote_storage_enable: bool = False
    local_retention_ms: int = LOCAL_RETENTION_SAME_AS_TOTAL
    segment_bytes: int = 1_073_741_824
    bytes_in_per_second: float = 0.0
    bytes_out_per_second: float = 0.0
    messages_in_per_second: float = 0.0
    log_size_bytes: int = 0  # local, one replica, all partitions
    remote_log_size_bytes: int = 0  # tiered (object storage), stored once
    # Of bytes_out_per_second, what consumers with `client.rack` read from the replica in their
    # own zone (KIP-392), measured from bytes out per broker against the partitions' leaders
    # (`cost/zones.py`); None where not measured (then the cluster's setting decides).
    rack_aware_read_bytes_per_second: float | None = None

    @property
    def is_compacted(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def is_internal(self) -> bool:
        return self.name.startswith("__")


@dataclass(frozen=True, slots=True)
class ConsumerGroup(SlotsPickle):
    group: str
    topic: str
    lag_messages: int = 0
    lag_seconds: float | None = None  # offset lag divided by the topic's message-in rate
    max_lag_seconds: float | None = None  # the largest time lag seen over the window
    members: int = 0
    state: str = "Stable"
    committed_offset_sum: int | None = None
    bytes_out_per_second: float | None = None
    # When its committed offsets last moved, as far as snapshots tell (None: not yet known).
    # A batch job's group is Empty between runs, yet commits on every run: it still reads.
    last_commit_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PrincipalTraffic(SlotsPickle):
    """Bytes one authenticated principal (a service account, a SASL user) wrote and read.

    Broker exporters never say who sent a byte; Confluent Cloud's Metrics API does, per
    `principal_id`. That is what splits a topic's producer and consumer cost among the services
    of a 2,000-service company, so it is kept apart from the per-topic figures. `topic` is None
    where the source gives the principal's bytes for the whole cluster only.
    """

    principal_id: str
    topic: str | None = None
    bytes_in_per_second: float = 0.0  # produced by this principal
    bytes_out_per_second: float = 0.0  # fetched by this principal
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class TopicBrokerTraffic(SlotsPickle):
    """One topic's bytes at one broker over the window: what producers wrote to the
    partitions it leads, and what consumers fetched from it (as leader or as a follower).

    The raw evidence of cross-zone reads, read per scrape target from the brokers' own
    counters; `cost/zones.py` turns it into each topic's local reads. Kept in the collect's
    snapshot only (the store keeps the per-topic result)."""

    topic: str
    broker_id: int
    bytes_in_per_second: float = 0.0
    bytes_out_per_second: float = 0.0


@dataclass(frozen=True)
class ClusterSnapshot:
    cluster: str
    taken_at: datetime
    window_seconds: int
    brokers: tuple[Broker, ...]
    topics: tuple[Topic, ...]
    groups: tuple[ConsumerGroup, ...] = ()
    rack_aware_fetch: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    principals: tuple[PrincipalTraffic, ...] = ()
    # Per topic, the leader broker of each partition (index = partition), from the Admin API.
    leaders: dict[str, tuple[int, ...]] = field(default_factory=dict)
    broker_traffic: tuple[TopicBrokerTraffic, ...] = ()

    @property
    def replica_selector(self) -> str | None:
        """The brokers' `replica.selector.class` as read at collect; None where unknown."""
        return self.labels.get(REPLICA_SELECTOR_LABEL)

    @property
    def zones(self) -> int:
        """Distinct racks among the brokers; brokers without a rack count as one zone."""
        return max(1, len({broker.rack for broker in self.brokers}))

    @property
    def tiered_storage_enabled(self) -> bool | None:
        """Whether the brokers run tiered storage: the broker setting where known, else yes
        when a topic already tiers (none can without it), else unknown (None)."""
        value = self.labels.get(TIERED_SYSTEM_LABEL)
        if value is not None:
            return value.strip().lower() == "true"
        if any(topic.remote_storage_enable for topic in self.topics):
            return True
        return None

    @cached_property
    def _topics_by_name(self) -> dict[str, Topic]:
        return {topic.name: topic for topic in self.topics}

    def topic(self, name: str) -> Topic:
        try:
            return self._topics_by_name[name]
        except KeyError:
            raise KeyError(f"unknown topic {name!r} in cluster {self.cluster!r}") from None
