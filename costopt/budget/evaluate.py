"""A budget's month: spent to date, the month-end forecast with its 80% interval, and the
status. The rules, in one place (the API, the report, `/metrics` and the CLI all call
`evaluate`):

- `over`: the month to date has reached the amount;
- `at_risk`: the month to date has reached the first threshold (80% by default), or the
  forecast month-end (central) reaches the amount;
- `on_track`: neither.

The forecast is `costopt.forecast.forecast_series` over the scope's daily cost (its trend,
weekday effects and level drift), at the 80% level, summed over the days left. Consecutive
days' errors are not independent: a level that wanders stays wandered. The interval of the
sum combines each day's half-width with the correlation of a random walk's days i and j
ahead, √(min(i, j)/max(i, j)): between independent days (too narrow: noise does not
average out of a drifting level) and one shared error (the sum of the bounds, too wide).
docs/budgets.md has the backtested coverage.
With fewer than a week of history there is no model to trust: the forecast is the last
day's rate carried on (`method: run_rate`) and no interval is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from costopt.base.errors import InvalidInput
from costopt.base.money import decimal_to_micros, rounded
from costopt.billing.reconcile import Month
from costopt.budget.spend import (
    DAY,
    CostHistory,
    billed_daily,
    billed_spans,
    cluster_days,
    scope_days,
    spend_between,
)
from costopt.forecast.cluster import forecast_series
from costopt.records.budget_spec import BudgetSpec, ConfiguredBudget

Status = Literal["on_track", "at_risk", "over"]
STATUSES: tuple[Status, ...] = ("on_track", "at_risk", "over")
LEVEL = 0.8


class UnknownTarget(InvalidInput):
    """A budget names an owner or cluster the analysis does not know."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class MonthEnd:
    """Where the month ends up: central, and the 80% interval (None: no model to trust)."""

    central_micros: int
    lower_micros: int | None
    upper_micros: int | None
    method: Literal["model", "run_rate", "month_over"]


@dataclass(frozen=True)
class BudgetStatus:
    budget: ConfiguredBudget
    source: Literal["config", "api"]
    currency: str
    month: Month
    as_of: datetime
    amount_micros: int
    spent_micros: int
    basis: str  # billed | estimated | mixed
    forecast: MonthEnd
    status: Status

    @property
    def spent_share(self) -> float | None:
        return self.spent_micros / self.amount_micros if self.amount_micros else None

    @property
    def forecast_share(self) -> float | None:
        return self.forecast.central_micros / self.amount_micros if self.amount_micros \
            else None

    def thresholds_reached(self) -> list[float]:
        return [t for t in self.budget.thresholds
                if self.spent_micros >= t * self.amount_micros]

    def to_dict(self) -> dict[str, Any]:
        def money(micros: int | None) -> str | None:
            return None if micros is None else rounded(micros)

        def share(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        budget = self.budget
        return {
            "name": budget.name, "scope": budget.scope, "target": budget.target,
            "source": self.source, "amount": money(self.amount_micros),
            "currency": self.currency, "period": "month", "month": self.month.label,
            "as_of": self.as_of.isoformat(), "thresholds": list(budget.thresholds),
            "month_to_date": money(self.spent_micros), "basis": self.basis,
            "month_to_date_share": share(self.spent_share),
            "thresholds_reached": self.thresholds_reached(),
            "forecast": {"month_end": money(self.forecast.central_micros),
                         "lower": money(self.forecast.lower_micros),
                         "upper": money(self.forecast.upper_micros),
                         "level": LEVEL if self.forecast.lower_micros is not None else None,
                         "method": self.forecast.method,
                         "share": share(self.forecast_share)},
            "status": self.status,
        }


def check_targets(spec: BudgetSpec, history: CostHistory, currency: str) -> None:
    """Refuse a budget whose owner or cluster the analysis does not know, or whose currency
    is not the fleet's (the field is named: `target`, `currency`)."""
    if spec.currency is not None and spec.currency != currency:
        raise UnknownTarget("currency", f"currency: the fleet is priced in {currency}, not "
                                        f"{spec.currency}")
    known = history.owners() if spec.scope == "owner" else history.clusters() \
        if spec.scope == "cluster" else None
    if known is not None and spec.target not in known:
        shown = ", ".join(sorted(known)[:20]) or "none"
        raise UnknownTarget("target", f"target: unknown {spec.scope} {spec.target!r} "
                                      f"(known: {shown}{', ...' if len(known) > 20 else ''})")


def status_of(spent_micros: int, forecast_micros: int, amount_micros: int,
              thresholds: list[float]) -> Status:
    if spent_micros >= amount_micros and (amount_micros > 0 or spent_micros > 0):
        return "over"
    if spent_micros >= min(thresholds) * amount_micros or forecast_micros >= amount_micros:
        return "at_risk"
    return "on_track"


def month_end(daily: pd.Series, spent: float, as_of: datetime, month: Month) -> MonthEnd:
    """The month-end forecast from a per-day cost series (indexed by each day, UTC)."""
    if as_of >= month.end:
        return MonthEnd(round(spent), round(spent), round(spent), "month_over")
    last = pd.Timestamp(daily.index.max())
    horizon = max(1, math.ceil((pd.Timestamp(month.end) - last) / DAY))
    forecast = forecast_series(daily, "daily_cost", "micros/day", horizon, level=LEVEL)
    if forecast is None:
        rest = spend_between(daily, as_of, month.end)
        return MonthEnd(round(spent + rest), None, None, "run_rate")
    future = forecast.forecast.set_index("ts")
    future.index = pd.DatetimeIndex(future.index, tz="UTC") if future.index.tz is None \
        else future.index
    central = spent + spend_between(pd.concat([daily, future["value"]]).sort_index(), as_of,
                                    month.end)
    starts = future.index.to_series()
    weights = ((np.minimum(starts + DAY, pd.Timestamp(month.end))
                - np.maximum(starts, pd.Timestamp(as_of))).clip(lower=pd.Timedelta(0))
               / DAY).to_numpy(dtype=float)
    up = (future["upper"] - future["value"]).to_numpy(dtype=float) * weights
    down = (future["value"] - future["lower"]).to_numpy(dtype=float) * weights
    ahead = np.arange(1, len(future) + 1, dtype=float)
    # Days ahead i and j err together as a wandering level does: correlation √(min/max).
    correlation = np.sqrt(np.minimum.outer(ahead, ahead) / np.maximum.outer(ahead, ahead))
    return MonthEnd(round(central), round(central - math.sqrt(down @ correlation @ down)),
                    round(central + math.sqrt(up @ correlation @ up)), "model")


def evaluate(budget: ConfiguredBudget, source: Literal["config", "api"],
             history: CostHistory, bill_lines: pd.DataFrame, as_of: datetime,
             currency: str) -> BudgetStatus:
    """The budget's state for the calendar month holding `as_of`."""
    month = Month.of(as_of)
    days = scope_days(history, budget)
    spans = billed_spans(bill_lines, month.start, as_of)
    daily, basis = billed_daily(days, cluster_days(history), spans, month.start)
    spent = spend_between(daily, month.start, as_of)
    forecast = month_end(daily, spent, as_of, month) if not daily.empty else \
        MonthEnd(0, None, None, "run_rate")
    amount = decimal_to_micros(budget.amount)
    return BudgetStatus(budget, source, currency, month, as_of, amount, round(spent), basis,
                        forecast, status_of(round(spent), forecast.central_micros, amount,
                                            budget.thresholds))
