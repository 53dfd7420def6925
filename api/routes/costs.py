"""Costs rolled up by cluster, owner or topic."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import cluster_or_404, offset_page
from api.schemas import Page
from costopt.analysis import FleetAnalysis
from costopt.cost import rollup
from costopt.cost.allocation import COMPONENTS
from reports.exports import rounded

router = APIRouter(prefix="/v1/costs", tags=["costs"], dependencies=[ReadScope])


@router.get("", response_model=Page[dict[str, Any]])
def costs(
    analysis: AnalysisDep,
    state: StateDep,
    group_by: Literal["cluster", "owner", "topic"] = "cluster",
    cluster: Annotated[str | None, Query(description="only this cluster's costs")] = None,
    period: Annotated[Literal["month"], Query(description="the period figures are for")]
    = "month",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Monthly cost per group with one field per component, most expensive first;
    `__idle__` and `__unallocated__` appear as owners/topics of their own, so items add up to
    the bill. `owner` rolls up across clusters (narrow it with `cluster`)."""
    if cluster is not None:
        cluster_or_404(analysis, cluster)
    items = state.memo(analysis, ("costs", group_by, cluster, period),
                       lambda: _costs(analysis, group_by, cluster, period))
    return offset_page(items, limit, cursor, f"costs:{group_by}:{cluster}")


def _costs(analysis: FleetAnalysis, group_by: Literal["cluster", "owner", "topic"],
           cluster: str | None, period: str) -> list[dict[str, Any]]:
    costs = [c for c in analysis.costs if cluster is None or c.cluster == cluster]
    frame = rollup(costs, group_by)
    keys = {"cluster": ["cluster"], "owner": ["owner"],
            "topic": ["cluster", "topic", "owner"]}[group_by]
    items = []
    for row in frame.itertuples(index=False):
        item = {key: getattr(row, key) for key in keys}
        item.update({"monthly_cost": rounded(row.monthly_cost_micros),
                     "currency": analysis.currency, "period": period})
        item.update({c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS})
        items.append(item)
    return items
