"""Costs rolled up by cluster, owner or topic."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.schemas import Page
from costopt.analysis import FleetAnalysis
from costopt.cost import rollup
from costopt.cost.allocation import COMPONENTS
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
) -> dict:
    """Monthly cost per group with one field per component; `__idle__` and `__unallocated__`
    appear as owners/topics of their own, so items add up to the fleet's bill."""
    return state.memo(analysis, ("costs", group_by, period, limit),
                      lambda: _costs(analysis, group_by, period, limit))


def _costs(analysis: FleetAnalysis, group_by: Literal["cluster", "owner", "topic"],
           period: str, limit: int) -> dict:
    frame = rollup(analysis.costs, group_by).head(limit)
    keys = {"cluster": ["cluster"], "owner": ["cluster", "owner"],
            "topic": ["cluster", "topic", "owner"]}[group_by]
    items = []
    for row in frame.itertuples(index=False):
        item = {key: getattr(row, key) for key in keys}
        item.update({"monthly_cost": rounded(row.monthly_cost_micros),
                     "currency": analysis.currency, "period": period})
        item.update({c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS})
        items.append(item)
    return {"items": items, "next_cursor": None}
