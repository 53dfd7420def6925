"""Monthly-rate cost by day, from the stored daily series: what each cluster and owner would
have cost per month at each day's usage. One vectorised pricing call over every topic-day
(the cost model is linear in usage), so 30 days of 50,000 topics take a second, not minutes.

Capacity is what was paid for each day (the snapshot's brokers and disks): a day of less use
shows as more `__idle__`, not as a smaller bill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costopt.cost.allocation import (
    COMPONENTS,
    IDLE,
    UNALLOCATED,
    ClusterCost,
    Columns,
    IntArray,
    bill_of,
    columns_of,
    idle_of,
    topic_micros,
)

USAGE = ("bytes_in_per_second", "bytes_out_per_second", "log_size_bytes")


def _usage_columns(long: pd.DataFrame) -> Columns:
    """The columns prices read, without the day: a tz-aware `ts` becomes an array of
    Timestamp objects, one by one (a month of a 4,000-topic cluster took a second)."""
    return columns_of(long.drop(columns="ts"))


def daily_cost(cost: ClusterCost, daily: pd.DataFrame) -> pd.DataFrame:
    """Rows of (ts, cluster, owner, monthly_cost_micros) per day, idle and unallocated
    included as owners of their own."""
    if daily.empty:
        return pd.DataFrame(columns=["ts", "cluster", "owner", "monthly_cost_micros"])
    return _owner_rows(cost, *_topic_day_micros(cost, daily))


def daily_cost_and_basis(cost: ClusterCost, daily: pd.DataFrame
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`daily_cost` and `daily_basis` from one pricing of the topic-days (the report shows
    both: pricing a month of `wix` twice was a third of its time)."""
    if daily.empty:
        return daily_cost(cost, daily), daily_basis(cost, daily)
    long, micros = _topic_day_micros(cost, daily)
    return _owner_rows(cost, long, micros), _basis_rows(cost, long, micros)


def _owner_rows(cost: ClusterCost, long: pd.DataFrame, micros: dict[str, IntArray]
                ) -> pd.DataFrame:
    """`daily_cost`'s rows from priced topic-days: summed by day and owner, without sorting
    every topic-day first."""
    rows = long[["ts", "owner"]].assign(
        monthly_cost_micros=np.sum([micros[c] for c in COMPONENTS], axis=0))
    summed = rows.groupby(["ts", "owner"], as_index=False)["monthly_cost_micros"].sum()
    out = pd.concat([summed, *_idle_and_unallocated(cost, long, micros)], ignore_index=True)
    out = out.groupby(["ts", "owner"], as_index=False)["monthly_cost_micros"].sum()
    out["monthly_cost_micros"] = out["monthly_cost_micros"].astype(np.int64)
    out.insert(1, "cluster", cost.cluster)
    return out[["ts", "cluster", "owner", "monthly_cost_micros"]].sort_values(
        ["ts", "owner"], ignore_index=True)


def _idle_and_unallocated(cost: ClusterCost, long: pd.DataFrame, micros: dict[str, IntArray]
                          ) -> list[pd.DataFrame]:
    """Per day, the capacity no topic's use accounts for (`__idle__`) and what the cluster
    costs that no topic is charged (`__unallocated__`), as rows of their own."""
    basis = cost.basis
    unallocated = sum(basis.unallocated_micros.get(c, 0) for c in COMPONENTS)
    per_day = pd.DataFrame({c: micros[c] for c in basis.capacity_bill_micros},
                           index=long.index).groupby(long["ts"]).sum()
    idle = [sum(idle_of(basis, day).values()) for day in per_day.to_dict("records")]
    return [pd.DataFrame({"ts": per_day.index, "topic": IDLE, "owner": IDLE,
                          "monthly_cost_micros": np.asarray(idle, dtype=np.int64)}),
            pd.DataFrame({"ts": per_day.index, "topic": UNALLOCATED, "owner": UNALLOCATED,
                          "monthly_cost_micros": unallocated})]


def daily_topic_cost(cost: ClusterCost, daily: pd.DataFrame) -> pd.DataFrame:
    """Rows of (ts, cluster, topic, owner, monthly_cost_micros) per topic and day, with
    `__idle__` and `__unallocated__` as topics (and owners) of their own: what a budget over a
    topic pattern, or a team's share of a topic, is summed from."""
    columns = ["ts", "cluster", "topic", "owner", "monthly_cost_micros"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    long, micros = _topic_day_micros(cost, daily)
    long = long.assign(monthly_cost_micros=np.sum([micros[c] for c in COMPONENTS], axis=0))
    rows = long[["ts", "topic", "owner", "monthly_cost_micros"]]
    out = pd.concat([rows, *_idle_and_unallocated(cost, long, micros)], ignore_index=True)
    out["monthly_cost_micros"] = out["monthly_cost_micros"].astype(np.int64)
    out.insert(1, "cluster", cost.cluster)
    return out[columns].sort_values(["ts", "topic"], ignore_index=True)


def daily_basis(cost: ClusterCost, daily: pd.DataFrame) -> pd.DataFrame:
    """Per day, the cluster's monthly-rate cost split by what drives it: `provisioned`
    (brokers and disks, the same every day) and `usage` (metered traffic, object storage,
    used-bytes storage, partition fees, which follow each day's use)."""
    columns = ["ts", "cluster", "provisioned_micros", "usage_micros"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    return _basis_rows(cost, *_topic_day_micros(cost, daily))


def _basis_rows(cost: ClusterCost, long: pd.DataFrame, micros: dict[str, IntArray]
                ) -> pd.DataFrame:
    basis = cost.basis
    per_day = pd.DataFrame({c: micros[c] for c in basis.metered_components},
                           index=long.index).groupby(long["ts"]).sum()
    bills = [bill_of(basis, day) for day in per_day.to_dict("records")]
    return pd.DataFrame({
        "ts": per_day.index, "cluster": cost.cluster,
        "provisioned_micros": np.array([sum(b[c] for c in basis.capacity_bill_micros)
                                        for b in bills], dtype=np.int64),
        "usage_micros": np.array([sum(b[c] for c in basis.metered_components)
                                  for b in bills], dtype=np.int64)})


def daily_topic_components(cost: ClusterCost, daily: pd.DataFrame) -> pd.DataFrame:
    """Rows of (ts, cluster, topic, owner, `<component>_micros`...) per topic and day: each
    topic's monthly-rate cost at that day's usage, by component (what anomaly detection
    tests, topic by topic)."""
    columns = ["ts", "cluster", "topic", "owner", *(f"{c}_micros" for c in COMPONENTS)]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    long, micros = _topic_day_micros(cost, daily)
    return pd.DataFrame({"ts": long["ts"].to_numpy(), "cluster": cost.cluster,
                         "topic": long["topic"].to_numpy(), "owner": long["owner"].to_numpy(),
                         **{f"{c}_micros": micros[c] for c in COMPONENTS}})


def _topic_day_micros(cost: ClusterCost, daily: pd.DataFrame
                      ) -> tuple[pd.DataFrame, dict[str, IntArray]]:
    """Each stored (topic, day) joined to the topic's static columns, and its monthly-rate
    micros per component at that day's usage: the one place a day's topic cost is priced."""
    static = cost.frame.drop(columns=list(USAGE)).set_index("topic")
    long = daily[["topic", "ts", *USAGE]].join(static, on="topic", how="inner")
    return long, topic_micros(_usage_columns(long), cost.basis)
