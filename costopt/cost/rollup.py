"""Roll-ups of allocated cost by cluster, owner or topic, across clusters of one currency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from costopt.cost.allocation import COMPONENTS, ClusterCost

GroupBy = Literal["cluster", "owner", "topic", "cluster_owner"]
GROUP_COLUMNS: dict[str, list[str]] = {
    "cluster": ["cluster"],
    "owner": ["owner"],  # across clusters: what a team costs
    "topic": ["cluster", "topic", "owner"],
    "cluster_owner": ["cluster", "owner"],
}
MICRO_COLUMNS = [f"{component}_micros" for component in COMPONENTS] + ["monthly_cost_micros"]


def fleet_rows(costs: Sequence[ClusterCost]) -> pd.DataFrame:
    currencies = {cost.currency for cost in costs}
    if len(currencies) > 1:
        raise ValueError(f"cannot roll up costs in several currencies: {sorted(currencies)}")
    if not costs:
        return pd.DataFrame(columns=["cluster", "topic", "owner", *MICRO_COLUMNS])
    return pd.concat([cost.rows for cost in costs], ignore_index=True)


def rollup(costs: Sequence[ClusterCost], group_by: GroupBy) -> pd.DataFrame:
    """Sums of micro-unit columns per group, most expensive first (ties by the group's
    columns, so the order is stable for paging)."""
    if group_by not in GROUP_COLUMNS:
        raise ValueError(f"group_by must be one of {sorted(GROUP_COLUMNS)}, got {group_by!r}")
    rows = fleet_rows(costs)
    grouped = rows.groupby(GROUP_COLUMNS[group_by], as_index=False, sort=False)[MICRO_COLUMNS]
    columns = GROUP_COLUMNS[group_by]
    return grouped.sum().sort_values(["monthly_cost_micros", *columns],
                                     ascending=[False, *([True] * len(columns))],
                                     ignore_index=True)
