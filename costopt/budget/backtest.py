"""How often the month-end forecast's 80% interval holds the month's realised cost, on the
simulator's history (`python -m costopt.budget.backtest`).

A fleet is simulated over `--days` days ending on the first of a month. For each complete
month in it, each cut day (the 7th, 10th, ... 28th) and each scope (the fleet, every
cluster, the largest owners, two topic patterns), the budget is evaluated on the history
before the cut, and the forecast is compared with what the whole month then cost. The share
of forecasts whose interval covers it is printed and returned; docs/budgets.md quotes it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd

from costopt.billing.reconcile import Month
from costopt.budget.evaluate import evaluate
from costopt.budget.spend import CostHistory, cost_history, per_day, scope_days, spend_between
from costopt.config import Settings
from costopt.cost.allocation import IDLE, UNALLOCATED, allocate
from costopt.cost.chargeback import chargeback_rows
from costopt.cost.owners import OwnerAttribution
from costopt.prices import load_builtin_catalog
from costopt.records.budget_spec import ConfiguredBudget
from costopt.simulate.fleet import generate_fleet
from costopt.simulate.presets import preset
from costopt.simulate.snapshots import history_frame, simulate_clusters

CUT_DAYS = (7, 10, 13, 16, 19, 22, 25, 28)
NO_BILL = pd.DataFrame(columns=["cluster", "charge_start", "charge_end", "amount_micros"])


@dataclass(frozen=True)
class Backtest:
    forecasts: int
    covered: int
    mean_width_pct: float  # the interval's width, in % of the realised month

    @property
    def coverage(self) -> float:
        return self.covered / self.forecasts if self.forecasts else 0.0


def simulated_history(preset_name: str, days: int, end: datetime, seed: int | None = None
                      ) -> CostHistory:
    spec = replace(preset(preset_name), days=days)
    fleet = generate_fleet(spec if seed is None else spec.with_seed(seed), end=end)
    settings, owners = Settings(), OwnerAttribution()
    costs, chargeback = [], []
    for item in simulate_clusters(fleet):
        cost = allocate(item.snapshot, load_builtin_catalog(item.catalog), owners,
                        settings.allocation)
        daily = history_frame(item.series, hourly_days=0)
        costs.append((cost, daily[daily["resolution_seconds"] == 86_400]))
        chargeback.append(chargeback_rows(cost, item.snapshot.groups, None, owners,
                                          item.snapshot.principals))
    return cost_history(costs, chargeback)


def scopes(history: CostHistory, owners: int = 5) -> list[ConfiguredBudget]:
    def budget(index: int, scope: str, target: str | None) -> ConfiguredBudget:
        return ConfiguredBudget.model_validate({"name": f"b{index}", "scope": scope,
                                                "target": target, "amount": Decimal(1)})

    days = history.topic_days
    largest = (days[~days["owner"].isin([IDLE, UNALLOCATED])].groupby("owner")[
        "monthly_cost_micros"].sum().nlargest(owners).index)
    targets: list[tuple[str, str | None]] = [("fleet", None)]
    targets += [("cluster", c) for c in sorted(history.clusters())]
    targets += [("owner", o) for o in largest]
    targets += [("topic_pattern", r"^payments\."), ("topic_pattern", r"(events|logs)")]
    return [budget(i, scope, target) for i, (scope, target) in enumerate(targets)]


def backtest(history: CostHistory, cut_days: tuple[int, ...] = CUT_DAYS) -> Backtest:
    days = history.topic_days
    first, last = days["ts"].min(), days["ts"].max() + pd.Timedelta(days=1)
    months = [Month.of(m.to_pydatetime()) for m in pd.date_range(first, last, freq="MS")]
    months = [m for m in months if m.start >= first and m.end <= last]
    forecasts = covered = 0
    widths = []
    for budget in scopes(history):
        actual = per_day(scope_days(history, budget).groupby("ts")["monthly_cost_micros"]
                         .sum())
        for month in months:
            realised = spend_between(actual, month.start, month.end)
            for day in cut_days:
                cut = month.start + timedelta(days=day - 1)
                before = CostHistory(days[days["ts"] < cut], history.owner_shares)
                result = evaluate(budget, "config", before, NO_BILL, cut, "USD").forecast
                if result.lower_micros is None or result.upper_micros is None:
                    continue
                forecasts += 1
                covered += result.lower_micros <= realised <= result.upper_micros
                widths.append((result.upper_micros - result.lower_micros) / realised * 100
                              if realised else 0.0)
    return Backtest(forecasts, covered, sum(widths) / len(widths) if widths else 0.0)


def main(argv: list[str] | None = None) -> Backtest:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--days", type=int, default=122)
    parser.add_argument("--end", default="2026-12-01", help="the history's end (a 1st)")
    parser.add_argument("--seeds", type=int, default=2, help="fleets simulated")
    args = parser.parse_args(argv)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC)
    total = Backtest(0, 0, 0.0)
    for seed in range(args.seeds):
        result = backtest(simulated_history(args.preset, args.days, end,
                                            preset(args.preset).seed + seed))
        print(f"seed {preset(args.preset).seed + seed}: {result.covered} of "
              f"{result.forecasts} month-end forecasts covered "
              f"({result.coverage:.1%}), mean 80% interval width "
              f"{result.mean_width_pct:.1f}% of the month")
        width = (total.mean_width_pct * total.forecasts
                 + result.mean_width_pct * result.forecasts)
        forecasts = total.forecasts + result.forecasts
        total = Backtest(forecasts, total.covered + result.covered,
                         width / forecasts if forecasts else 0.0)
    print(f"80% interval coverage: {total.covered} of {total.forecasts} "
          f"({total.coverage:.1%})")
    return total


if __name__ == "__main__":
    main()
