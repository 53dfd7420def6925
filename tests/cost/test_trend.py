"""The daily cost trend is the bill: provisioned capacity costs the same every day, and only
usage moves with each day's traffic (a weekend dip is never bigger than the usage bill)."""

from __future__ import annotations

import pandas as pd

from costopt.cost.trend import daily_basis, daily_cost
from tests.fleets import analyzed


def test_provisioned_cost_is_flat_and_the_daily_total_moves_only_with_usage() -> None:
    analysis = analyzed("small")
    for name, cluster in analysis.clusters.items():
        cost = cluster.model.cost
        basis = daily_basis(cost, cluster.history.daily)
        trend = daily_cost(cost, cluster.history.daily)
        totals = trend.groupby("ts")["monthly_cost_micros"].sum()
        assert basis["provisioned_micros"].nunique() == 1, name
        assert basis["provisioned_micros"].iloc[0] == sum(
            cost.basis.capacity_bill_micros.values())
        joined = basis.set_index("ts")
        # every day: total = provisioned + usage (to a micro-unit per topic-day of rounding)
        gap = (totals - joined["provisioned_micros"] - joined["usage_micros"]).abs()
        assert (gap <= len(cost.frame)).all(), name
        weekend = pd.to_datetime(totals.index).day_of_week >= 5
        dip = totals[~weekend].mean() - totals[weekend].mean()
        usage_bill = sum(cost.bill_micros[c] for c in cost.basis.metered_components)
        assert dip <= usage_bill, name  # the dip comes out of usage, never out of capacity
