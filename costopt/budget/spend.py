"""What a budget's scope spends per day, from the cost history, and what the month's bill
says it spent.

1. **Estimated.** Each topic's cost on each stored day (`costopt.cost.trend.daily_topic_cost`,
   idle and unallocated as rows of their own), summed over the scope: the whole fleet, one
   cluster, the topics an RE2 pattern matches, or an owner's share of each topic it pays for
   (the chargeback split of the analysed snapshot: its own topics' producer side and what its
   consumer groups read, so an owner's budget counts what `GET /v1/costs?group_by=owner`
   shows it).
2. **Billed.** Where a bill for the month names a cluster, the cluster's lines prorated to
   the part of the month they cover say what it spent; every day of that cluster is scaled by
   bill ÷ estimate over the covered span, so the month to date is the bill where one exists
   and the estimate elsewhere, and the forecast starts from the billed level.

Figures are monthly-rate micro-units per day (the history's unit); `per_day` turns one into
what that day costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from costopt.base.patterns import compile_pattern
from costopt.cost import formulas
from costopt.cost.allocation import IDLE, UNALLOCATED, ClusterCost
from costopt.cost.trend import daily_topic_cost
from costopt.records.budget_spec import BudgetSpec

DAY = pd.Timedelta(days=1)
BILLED, ESTIMATED, MIXED = "billed", "estimated", "mixed"


@dataclass(frozen=True)
class CostHistory:
    """The fleet's daily cost per topic (`topic_days`) and each owner's share of each topic
    (`owner_shares`: cluster, topic, owner, share)."""

    topic_days: pd.DataFrame
    owner_shares: pd.DataFrame

    def owners(self) -> set[str]:
        return set(self.owner_shares["owner"])

    def clusters(self) -> set[str]:
        return set(self.topic_days["cluster"])


def cost_history(costs_and_days: list[tuple[ClusterCost, pd.DataFrame]],
                 chargeback: list[pd.DataFrame]) -> CostHistory:
    """From each cluster's cost and daily series, and its chargeback rows."""
    frames = [daily_topic_cost(cost, daily) for cost, daily in costs_and_days]
    topic_days = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["ts", "cluster", "topic", "owner", "monthly_cost_micros"])
    topic_days["ts"] = pd.to_datetime(topic_days["ts"], utc=True)
    rows = pd.concat(chargeback, ignore_index=True) if chargeback else pd.DataFrame(
        columns=["cluster", "topic", "owner", "monthly_cost_micros"])
    per_owner = rows.groupby(["cluster", "topic", "owner"], as_index=False)[
        "monthly_cost_micros"].sum()
    totals = per_owner.groupby(["cluster", "topic"])["monthly_cost_micros"].transform("sum")
    per_owner["share"] = np.where(totals != 0, per_owner["monthly_cost_micros"]
                                  / totals.replace(0, 1), 0.0)
    return CostHistory(topic_days, per_owner[["cluster", "topic", "owner", "share"]])


def scope_days(history: CostHistory, spec: BudgetSpec) -> pd.DataFrame:
    """Rows of (ts, cluster, monthly_cost_micros): the scope's cost per cluster and day."""
    days = history.topic_days
    if spec.scope == "cluster":
        days = days[days["cluster"] == spec.target]
    elif spec.scope == "topic_pattern":
        assert spec.target is not None
        matcher = compile_pattern(spec.target)
        topics = days["topic"].drop_duplicates()
        matched = {t for t in topics if t not in (IDLE, UNALLOCATED)
                   and matcher.search(t) is not None}
        days = days[days["topic"].isin(matched)]
    elif spec.scope == "owner":
        shares = history.owner_shares[history.owner_shares["owner"] == spec.target]
        days = days.merge(shares[["cluster", "topic", "share"]], on=["cluster", "topic"])
        days = days.assign(monthly_cost_micros=days["monthly_cost_micros"] * days["share"])
    out = days.groupby(["ts", "cluster"], as_index=False)["monthly_cost_micros"].sum()
    out["monthly_cost_micros"] = out["monthly_cost_micros"].astype(np.float64)
    return out


def per_day(monthly_rate_micros: pd.Series) -> pd.Series:
    """What each day costs at its monthly rate (the 730-hour month's 24 hours)."""
    result: pd.Series = formulas.prorated_to_hours(monthly_rate_micros, 24.0)
    return result


def spend_between(daily: pd.Series, start: datetime, end: datetime) -> float:
    """What a series of per-day costs (indexed by each day's midnight, UTC) spends from
    `start` to `end`, a partial day by its share; days the series has no point for are
    taken at the nearest day it has (a month begun before the history was kept)."""
    if end <= start or daily.empty:
        return 0.0
    first = pd.Timestamp(start).floor("D")
    days = pd.date_range(first, pd.Timestamp(end), freq="D", inclusive="left")
    values = daily.sort_index().reindex(daily.index.union(days)).ffill().bfill().loc[days]
    starts = days.to_series()
    overlap = (np.minimum(starts + DAY, pd.Timestamp(end))
               - np.maximum(starts, pd.Timestamp(start))).clip(lower=pd.Timedelta(0))
    return float((values.to_numpy() * (overlap / DAY).to_numpy()).sum())


@dataclass(frozen=True)
class BilledSpan:
    """A cluster's bill for a month so far: what it billed up to `until`."""

    cluster: str
    billed_micros: float
    until: datetime


def billed_spans(lines: pd.DataFrame, month_start: datetime, as_of: datetime
                 ) -> dict[str, BilledSpan]:
    """Per cluster a bill names, its lines prorated to [month start, as_of ∧ last charge)."""
    out: dict[str, BilledSpan] = {}
    named = lines[lines["cluster"].notna()] if len(lines) else lines
    for cluster, part in named.groupby("cluster"):
        starts = pd.to_datetime(part["charge_start"], utc=True)
        ends = pd.to_datetime(part["charge_end"], utc=True)
        until = min(pd.Timestamp(as_of), ends.max())
        covered = (np.minimum(ends, until) - np.maximum(starts, pd.Timestamp(month_start))
                   ).clip(lower=pd.Timedelta(0))
        length = (ends - starts).where(ends > starts, pd.Timedelta(seconds=1))
        amount = float((part["amount_micros"].to_numpy(dtype=np.float64)
                        * (covered / length).to_numpy()).sum())
        out[str(cluster)] = BilledSpan(str(cluster), amount, until.to_pydatetime())
    return out


def cluster_days(history: CostHistory) -> pd.DataFrame:
    """Rows of (ts, cluster, monthly_cost_micros): each cluster's whole cost per day."""
    return scope_days(history, BudgetSpec(scope="fleet", amount=Decimal(0)))


def billed_daily(days: pd.DataFrame, cluster_days: pd.DataFrame,
                 spans: dict[str, BilledSpan], month_start: datetime
                 ) -> tuple[pd.Series, str]:
    """The scope's per-day cost, each cluster scaled by its bill ÷ estimate over the span
    the bill covers, and the basis: `billed` (every cluster of the scope billed to date),
    `estimated` (none), `mixed`."""
    scaled = []
    billed_clusters = 0
    clusters = sorted(set(days["cluster"]))
    for cluster in clusters:
        part = days[days["cluster"] == cluster].set_index("ts")["monthly_cost_micros"]
        span = spans.get(cluster)
        if span is not None:
            whole = cluster_days[cluster_days["cluster"] == cluster].set_index("ts")[
                "monthly_cost_micros"]
            estimate = spend_between(per_day(whole), month_start, span.until)
            if estimate > 0:
                part = part * (span.billed_micros / estimate)
                billed_clusters += 1
        scaled.append(per_day(part))
    basis = ESTIMATED if billed_clusters == 0 else BILLED \
        if billed_clusters == len(clusters) else MIXED
    total = pd.concat(scaled).groupby(level=0).sum() if scaled else pd.Series(dtype=float)
    return total.sort_index(), basis
