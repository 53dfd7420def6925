"""Clusters: what each costs, its brokers, headroom and capacity runway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope
from api.paging import offset_page
from api.presenters.clusters import cluster_detail, cluster_summary
from api.routes._common import cluster_or_404
from api.schemas import ClusterDetail, ClusterSummary, Page

router = APIRouter(prefix="/v1/clusters", tags=["clusters"], dependencies=[ReadScope])


@router.get("", response_model=Page[ClusterSummary])
def list_clusters(analysis: AnalysisDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  cursor: str | None = None) -> Page[ClusterSummary]:
    """Every cluster with a stored snapshot, most expensive first, with its headroom and its
    capacity runway."""
    items = sorted((cluster_summary(c, analysis.currency) for c in analysis.clusters.values()),
                   key=lambda item: (-float(item.monthly_cost), item.name))
    page, next_cursor = offset_page(items, limit, cursor, "clusters")
    return Page[ClusterSummary](items=page, next_cursor=next_cursor)


@router.get("/{name}", response_model=ClusterDetail)
def get_cluster(name: str, analysis: AnalysisDep) -> ClusterDetail:
    """One cluster: brokers, headroom in disk and CPU, partitions per broker, runway."""
    return cluster_detail(cluster_or_404(analysis, name), analysis.currency)
