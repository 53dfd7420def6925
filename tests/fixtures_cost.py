"""Named, hand-checkable snapshots for the cost tests (the worked example of docs/cost-model.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot, Topic

GIB = 1024**3
MIB = 1024**2


def worked_example_cluster(instance_type: str = "m5.large", rack_aware_fetch: bool = False,
                           racks: tuple[str, ...] = ("a", "b", "c")) -> ClusterSnapshot:
    """3 brokers with 1,000 GiB disks, 300 GiB used and 30% CPU each; two topics."""
    brokers = tuple(
        Broker(broker_id=index, rack=rack, instance_type=instance_type,
               disk_capacity_bytes=1000 * GIB, disk_used_bytes=300 * GIB, cpu_utilisation=0.3)
        for index, rack in enumerate(racks)
    )
    topics = (
        Topic(name="payments.orders.v1", partitions=12, replication_factor=3,
              bytes_in_per_second=1 * MIB, bytes_out_per_second=2 * MIB,
              log_size_bytes=100 * GIB),
        Topic(name="search.clicks", partitions=12, replication_factor=3,
              bytes_in_per_second=1 * MIB, bytes_out_per_second=0, log_size_bytes=0),
    )
    return ClusterSnapshot(cluster="east", taken_at=datetime(2026, 11, 1, tzinfo=UTC),
                           window_seconds=3600, brokers=brokers, topics=topics,
                           rack_aware_fetch=rack_aware_fetch)
