"""Cost roll-ups by cluster, owner or topic, and by who pays: the producer or the reader."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.paging import offset_page
from api.presenters.costs import Side, cost_rows
from api.routes._common import cluster_or_404
from api.schemas import CostRow, Page
from costopt.cost.unit_cost import Unit

router = APIRouter(prefix="/v1/costs", tags=["costs"], dependencies=[ReadScope])


@router.get("", response_model=Page[CostRow], response_model_exclude_unset=True)
def costs(
    analysis: AnalysisDep,
    state: StateDep,
    group_by: Literal["cluster", "owner", "topic"] = "cluster",
    cluster: Annotated[str | None, Query(description="only this cluster's costs")] = None,
    period: Annotated[Literal["month"], Query(description="the period figures are for")]
    = "month",
    side: Annotated[Side, Query(
        description="producer: what owners pay for the topics they own; consumer: what "
                    "teams pay for what their consumer groups read; both: everything, "
                    "idle and unallocated included")] = "both",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    cursor: str | None = None,
    unit: Annotated[Unit | None, Query(
        description="add the cost per million messages in, per GB written or per GB read "
                    "of the row's topics (`unit_cost`, with `unit_cost_basis` and, where it "
                    "is null, `unit_cost_reason`)")] = None,
) -> Any:
    """Monthly cost per group with one field per component, most expensive first. The reader
    pays its share: a topic's consumer-side cost (egress, cross-zone reads, fetch load)
    belongs to the owners of the groups that read it, by their measured bytes read;
    `measured_share` says how much of each item's cost rests on a measured split. With
    `side=both`, `__idle__` and `__unallocated__` appear as owners/topics of their own, so
    items add up to the bill. `owner` rolls up across clusters (narrow it with `cluster`)."""
    if cluster is not None:
        cluster_or_404(analysis, cluster)
    items = state.memo(analysis, ("costs", group_by, cluster, period, side, unit),
                       lambda: cost_rows(analysis, group_by, cluster, period, side, unit))
    page, next_cursor = offset_page(items, limit, cursor,
                                    f"costs:{group_by}:{cluster}:{side}:{unit}")
    return Page[CostRow](items=page, next_cursor=next_cursor)
