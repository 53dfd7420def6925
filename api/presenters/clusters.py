"""Clusters as the API shows them: cost, headroom, brokers and capacity runway."""

from __future__ import annotations

from collections.abc import Iterable

from api.schemas import Broker, ClusterDetail, ClusterSummary, Runway
from costopt.analyze.analysis import ClusterAnalysis
from costopt.base.money import rounded
from costopt.cost.allocation import COMPONENTS
from costopt.forecast.cluster import Runway as DomainRunway


def runways(found: Iterable[DomainRunway]) -> list[Runway]:
    """When each resource reaches its limit (shared by clusters and forecasts)."""
    return [Runway(resource=r.resource, limit=r.limit, unit=r.unit, current=r.current,
                   date=r.date.isoformat() if r.date else None, days=r.days) for r in found]


def cluster_summary(analysis: ClusterAnalysis, currency: str) -> ClusterSummary:
    snapshot = analysis.model.snapshot
    brokers = snapshot.brokers
    capacity = sum(b.disk_capacity_bytes for b in brokers)
    used = [b.disk_used_bytes for b in brokers if b.disk_used_bytes is not None]
    cpu = [b.cpu_utilisation for b in brokers if b.cpu_utilisation is not None]
    return ClusterSummary(
        name=snapshot.cluster, taken_at=snapshot.taken_at, brokers=len(brokers),
        topics=len(snapshot.topics), consumer_groups=len({g.group for g in snapshot.groups}),
        monthly_cost=rounded(sum(analysis.model.cost.bill_micros.values())),
        currency=currency, catalog=analysis.model.catalog.name,
        dialect=snapshot.labels.get("dialect"),
        disk_headroom_fraction=(1 - sum(used) / capacity) if used and capacity else None,
        cpu_headroom_fraction=(1 - sum(cpu) / len(cpu)) if cpu else None,
        runway=runways(analysis.forecast.runways))


def cluster_detail(cluster: ClusterAnalysis, currency: str) -> ClusterDetail:
    """One cluster: its summary, brokers, partitions per broker and cost by component."""
    snapshot = cluster.model.snapshot
    brokers = snapshot.brokers
    replicas = sum(t.partitions * t.replication_factor for t in snapshot.topics)
    return ClusterDetail(
        **dict(cluster_summary(cluster, currency)),
        broker_list=[Broker(broker_id=b.broker_id, rack=b.rack, instance_type=b.instance_type,
                            disk_capacity_bytes=b.disk_capacity_bytes,
                            disk_used_bytes=b.disk_used_bytes,
                            cpu_utilisation=b.cpu_utilisation) for b in brokers],
        partition_replicas_per_broker=replicas / max(len(brokers), 1),
        costs_by_component={c: rounded(cluster.model.cost.bill_micros[c]) for c in COMPONENTS})
