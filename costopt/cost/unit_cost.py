"""Cost per unit of traffic: per million messages in, per GB written, per GB read, for a
topic, an owner or a cluster (what engineering teams ask when a bill is shown to them).

A row's monthly cost is divided by the traffic of the topics in it: the topic's own, the
topics an owner owns, every topic of a cluster; a GB is what the cluster's price catalog
bills by (`gb_bytes`). Two things are said beside each figure, never hidden in it:

- `basis`: `estimated` where a cluster's exporter has no counter for the figure divided by
  (kafka_exporter has no per-topic bytes, kminion no byte rates: the collect estimates them
  and says so in the snapshot's `estimated` label), else `measured`;
- `reason`, with the figure null, where there is nothing to divide by: a topic with no
  traffic, or the idle and unallocated rows, which are capacity with no traffic of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from costopt.base.money import micros_to_decimal
from costopt.cost import formulas
from costopt.cost.allocation import IDLE, UNALLOCATED
from costopt.cost.cluster_model import ClusterModel

Unit = Literal["million_messages", "gb_in", "gb_out"]
UNITS: tuple[Unit, ...] = ("million_messages", "gb_in", "gb_out")
# unit -> (the traffic column, the `estimated` label's name for it, what "none" means)
_TRAFFIC: dict[Unit, tuple[str, str, str]] = {
    "million_messages": ("messages_per_month", "messages_in", "no messages in over the window"),
    "gb_in": ("gb_in_per_month", "bytes_in", "no bytes written over the window"),
    "gb_out": ("gb_out_per_month", "bytes_out", "no bytes read over the window"),
}
MICRO = Decimal("0.000001")
SHARED_CAPACITY = "idle or unallocated capacity: no traffic of its own"


@dataclass(frozen=True)
class UnitCost:
    unit: Unit
    cost_micros: int | None
    units_per_month: float
    basis: Literal["measured", "estimated"]
    reason: str | None


def topic_traffic(models: Iterable[ClusterModel]) -> pd.DataFrame:
    """Per topic: cluster, topic, owner, the month's units of each kind, and which figures
    the cluster's exporter estimated (`estimated`, a frozenset)."""
    frames = []
    for model in models:
        snapshot = model.snapshot
        owners = dict(zip(model.cost.rows["topic"], model.cost.rows["owner"], strict=True))
        estimated = frozenset(filter(None, snapshot.labels.get("estimated", "").split(",")))
        gb = float(model.catalog.gb_bytes)
        topics = snapshot.topics
        frames.append(pd.DataFrame({
            "cluster": snapshot.cluster, "topic": [t.name for t in topics],
            "owner": [owners.get(t.name) for t in topics],
            "messages_per_month": formulas.units_per_month(
                pd.Series([t.messages_in_per_second for t in topics], dtype=float), 1e6),
            "gb_in_per_month": formulas.units_per_month(
                pd.Series([t.bytes_in_per_second for t in topics], dtype=float), gb),
            "gb_out_per_month": formulas.units_per_month(
                pd.Series([t.bytes_out_per_second for t in topics], dtype=float), gb),
            "estimated": [estimated] * len(topics)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[
        "cluster", "topic", "owner", "messages_per_month", "gb_in_per_month",
        "gb_out_per_month", "estimated"])


def unit_costs(unit: Unit, rows: pd.DataFrame, traffic: pd.DataFrame, keys: list[str]
               ) -> list[UnitCost]:
    """For each row (its `keys` and `monthly_cost_micros`), the cost per unit over the
    topics with the same keys: one grouped sum, whatever the number of rows."""
    column, label, nothing = _TRAFFIC[unit]
    flagged = traffic.assign(_estimated=[label in figures for figures in traffic["estimated"]])
    sums = flagged.groupby(keys, dropna=False).agg(units=(column, "sum"),
                                                   estimated=("_estimated", "any"))
    joined = rows[keys].join(sums, on=keys)
    units = joined["units"].fillna(0.0).to_numpy(dtype=float)
    estimated = joined["estimated"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    shared = np.zeros(len(rows), dtype=bool)
    for key in keys:
        if key in ("topic", "owner"):
            shared |= rows[key].isin([IDLE, UNALLOCATED]).to_numpy()
    out = []
    for cost, count, guessed, capacity in zip(rows["monthly_cost_micros"].to_numpy(), units,
                                              estimated, shared, strict=True):
        micros = None if capacity else formulas.cost_per_unit_micros(int(cost), float(count))
        reason = SHARED_CAPACITY if capacity else nothing if micros is None else None
        out.append(UnitCost(unit, micros, float(count),
                            "estimated" if guessed else "measured", reason))
    return out


def unit_cost_text(micros: int | None) -> str | None:
    """Decimal text to the micro-unit: a cost per GB is often a fraction of a cent."""
    return None if micros is None else str(micros_to_decimal(micros).quantize(MICRO))


UNIT_COLUMNS = {"million_messages": "cost_per_million_messages", "gb_in": "cost_per_gb_in",
                "gb_out": "cost_per_gb_out"}


def unit_cost_columns(rows: pd.DataFrame, traffic: pd.DataFrame) -> list[dict[str, str | None]]:
    """For topic rows (cluster, topic, monthly_cost_micros: a topic, or one side of it), the
    three unit costs as table columns, with `unit_cost_basis` (which of them rest on an
    estimate) and `unit_cost_note` (why one is empty): the report's top topics, costs.csv."""
    per_unit = {unit: unit_costs(unit, rows, traffic, ["cluster", "topic"]) for unit in UNITS}
    out = []
    for index in range(len(rows)):
        found = {unit: per_unit[unit][index] for unit in UNITS}
        estimated = [unit for unit, cost in found.items() if cost.basis == "estimated"]
        reasons = sorted({cost.reason for cost in found.values() if cost.reason})
        out.append({
            **{UNIT_COLUMNS[unit]: unit_cost_text(cost.cost_micros)
               for unit, cost in found.items()},
            "unit_cost_basis": f"estimated: {', '.join(estimated)}" if estimated
            else "measured",
            "unit_cost_note": "; ".join(reasons) or None})
    return out
