"""Costs rolled up by cluster, owner or topic."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.schemas import Page
from costopt.analysis import FleetAnalysis
from costopt.cost.allocation import COMPONENTS
from costopt.cost.chargeback import side_rollup
from reports.exports import rounded

router = APIRouter(prefix="/v1/costs", tags=["costs"], dependencies=[ReadScope])


@router.get("", response_model=Page[dict])
def costs(
    analysis: AnalysisDep,
    state: StateDep,
    group_by: Literal["cluster", "owner", "topic"] = "cluster",
    period: Annotated[Literal["month"], Query(description="the period figures are for")]
    = "month",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    side: Annotated[Literal["producer", "consumer", "both"], Query(
        description="producer: what owners pay for the topics they own; consumer: what "
                    "teams pay for what their consumer groups read; both: everything, "
                    "idle and unallocated included")] = "both",
) -> dict:
    """Monthly cost per group with one field per component. The reader pays its share: a
    topic's consumer-side cost (egress, cross-zone reads, fetch load) belongs to the owners of
    the groups that read it, by their measured bytes read; `measured_share` says how much of
    each item's cost rests on a measured split. With `side=both`, `__idle__` and
    `__unallocated__` appear as owners/topics of their own, so items add up to the bill."""
    return state.memo(analysis, ("costs", group_by, period, limit, side),
                      lambda: _costs(analysis, group_by, period, limit, side))


def _costs(analysis: FleetAnalysis, group_by: Literal["cluster", "owner", "topic"],
           period: str, limit: int, side: Literal["producer", "consumer", "both"]) -> dict:
    frame = side_rollup(analysis.chargeback_frames(), group_by, side).head(limit)
    keys = {"cluster": ["cluster"], "owner": ["cluster", "owner"],
            "topic": ["cluster", "topic", "owner"]}[group_by]
    items = []
    for row in frame.itertuples(index=False):
        item = {key: getattr(row, key) for key in keys}
        item.update({"side": side, "monthly_cost": rounded(row.monthly_cost_micros),
                     "currency": analysis.currency, "period": period,
                     "measured_share": round(float(row.measured_share), 4)})
        item.update({c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS})
        items.append(item)
    return {"items": items, "next_cursor": None}
