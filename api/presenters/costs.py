"""Cost rows as the API shows them: money as decimal text with its currency and period, one
field per cost component, and a unit cost where one is asked for."""

from __future__ import annotations

from typing import Any, Literal

from api.schemas import CostRow, TopicCost
from costopt.analyze.analysis import FleetAnalysis
from costopt.base.money import rounded
from costopt.cost.allocation import COMPONENTS
from costopt.cost.chargeback import side_rollup
from costopt.cost.unit_cost import Unit, UnitCost, topic_traffic, unit_cost_text, unit_costs

GroupBy = Literal["cluster", "owner", "topic"]
Side = Literal["producer", "consumer", "both"]


def topic_cost(row: Any, currency: str) -> Any:
    """A topic's cost row (a row of the cost model's topic rows) as `TopicCost`."""
    return TopicCost(cluster=row.cluster, topic=row.topic, owner=row.owner,
                     monthly_cost=rounded(row.monthly_cost_micros), currency=currency,
                     period="month",
                     **{c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS})


def unit_fields(found: UnitCost) -> dict[str, Any]:
    """A unit cost as every answer and export carries it: never zero for "nothing to divide
    by" (null, with the reason), and its basis beside it."""
    return {"unit": found.unit, "unit_cost": unit_cost_text(found.cost_micros),
            "units_per_month": round(found.units_per_month, 6),
            "unit_cost_basis": found.basis, "unit_cost_reason": found.reason}


def cost_fields(analysis: FleetAnalysis, group_by: GroupBy, cluster: str | None, period: str,
                side: Side, unit: Unit | None = None) -> list[dict[str, Any]]:
    """The fields of each roll-up row, most expensive first: only those a row of this grouping
    has (the answer leaves the others out)."""
    frames = [frame for name, frame in zip(analysis.clusters, analysis.chargeback_frames(),
                                           strict=True) if cluster is None or name == cluster]
    frame = side_rollup(frames, group_by, side)
    keys = {"cluster": ["cluster"], "owner": ["owner"],
            "topic": ["cluster", "topic", "owner"]}[group_by]
    items = []
    for row in frame.itertuples(index=False):
        item = {key: getattr(row, key) for key in keys}
        item.update({"side": side, "monthly_cost": rounded(row.monthly_cost_micros),
                     "currency": analysis.currency, "period": period,
                     "measured_share": round(float(row.measured_share), 4)})
        item.update({c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS})
        items.append(item)
    if unit is not None:
        traffic = topic_traffic(m for name, m in analysis.models.items()
                                if cluster is None or name == cluster)
        for item, found in zip(items, unit_costs(unit, frame, traffic, keys[:2] if
                                                 group_by == "topic" else keys), strict=True):
            item.update(unit_fields(found))
    return items


def cost_rows(analysis: FleetAnalysis, group_by: GroupBy, cluster: str | None, period: str,
              side: Side, unit: Unit | None = None) -> list[Any]:
    """The roll-up rows as `CostRow`s (only the fields set are answered)."""
    return [CostRow(**item) for item in cost_fields(analysis, group_by, cluster, period, side,
                                                    unit)]
