"""Clusters: what each costs, its brokers, headroom and capacity runway."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope
from api.routes._common import cluster_or_404, offset_page
from api.schemas import ClusterDetail, ClusterSummary, Page
from costopt.analysis import ClusterAnalysis
from costopt.cost.allocation import COMPONENTS
from costopt.money import rounded

router = APIRouter(prefix="/v1/clusters", tags=["clusters"], dependencies=[ReadScope])


def _summary(analysis: ClusterAnalysis, currency: str) -> dict[str, Any]:
    snapshot = analysis.model.snapshot
    brokers = snapshot.brokers
    capacity = sum(b.disk_capacity_bytes for b in brokers)
    used = [b.disk_used_bytes for b in brokers if b.disk_used_bytes is not None]
    cpu = [b.cpu_utilisation for b in brokers if b.cpu_utilisation is not None]
    return {"name": snapshot.cluster, "taken_at": snapshot.taken_at,
            "brokers": len(brokers), "topics": len(snapshot.topics),
            "consumer_groups": len({g.group for g in snapshot.groups}),
            "monthly_cost": rounded(sum(analysis.model.cost.bill_micros.values())),
            "currency": currency, "catalog": analysis.model.catalog.name,
            "dialect": snapshot.labels.get("dialect"),
            "disk_headroom_fraction": (1 - sum(used) / capacity) if used and capacity
            else None,
            "cpu_headroom_fraction": (1 - sum(cpu) / len(cpu)) if cpu else None,
            "runway": [{"resource": r.resource, "limit": r.limit, "unit": r.unit,
                        "current": r.current, "date": r.date.isoformat() if r.date else None,
                        "days": r.days} for r in analysis.forecast.runways]}


@router.get("", response_model=Page[ClusterSummary])
def list_clusters(analysis: AnalysisDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  cursor: str | None = None) -> dict[str, Any]:
    """Every cluster with a stored snapshot, most expensive first, with its headroom and its
    capacity runway."""
    items = sorted((_summary(c, analysis.currency) for c in analysis.clusters.values()),
                   key=lambda item: (-float(item["monthly_cost"]), item["name"]))
    return offset_page(items, limit, cursor, "clusters")


@router.get("/{name}", response_model=ClusterDetail)
def get_cluster(name: str, analysis: AnalysisDep) -> dict[str, Any]:
    """One cluster: brokers, headroom in disk and CPU, partitions per broker, runway."""
    cluster = cluster_or_404(analysis, name)
    snapshot = cluster.model.snapshot
    brokers = snapshot.brokers
    replicas = sum(t.partitions * t.replication_factor for t in snapshot.topics)
    return {
        **_summary(cluster, analysis.currency),
        "broker_list": [{"broker_id": b.broker_id, "rack": b.rack,
                         "instance_type": b.instance_type,
                         "disk_capacity_bytes": b.disk_capacity_bytes,
                         "disk_used_bytes": b.disk_used_bytes,
                         "cpu_utilisation": b.cpu_utilisation} for b in brokers],
        "partition_replicas_per_broker": replicas / max(len(brokers), 1),
        "costs_by_component": {c: rounded(cluster.model.cost.bill_micros[c])
                               for c in COMPONENTS},
    }
