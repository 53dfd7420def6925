"""`costopt_budget_*` gauges on `/metrics`: one series set per budget, few by nature (budgets
are set by people), so no cap is needed. The alert rules in deploy/prometheus/costopt-alerts.yml
read `costopt_budget_status`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from costopt.base.money import micros_to_units
from costopt.budget.evaluate import STATUSES, BudgetStatus

LABELS = ["budget", "scope", "target", "currency"]


class BudgetCollector(Collector):
    def __init__(self, statuses: Sequence[BudgetStatus]) -> None:
        self.statuses = statuses

    def collect(self) -> Iterator[GaugeMetricFamily]:
        def labels(status: BudgetStatus) -> list[str]:
            return [status.budget.name, status.budget.scope, status.budget.target or "",
                    status.currency]

        figures: dict[str, tuple[str, Callable[[BudgetStatus], int | None]]] = {
            "costopt_budget_amount": ("The monthly budget", lambda s: s.amount_micros),
            "costopt_budget_month_to_date": ("Spent this month so far (billed where a bill "
                                             "names the clusters, estimated elsewhere)",
                                             lambda s: s.spent_micros),
            "costopt_budget_month_end_forecast": ("Forecast spend for the whole month",
                                                  lambda s: s.forecast.central_micros),
            "costopt_budget_month_end_forecast_lower": (
                "Lower bound of the month-end forecast's 80% interval",
                lambda s: s.forecast.lower_micros),
            "costopt_budget_month_end_forecast_upper": (
                "Upper bound of the month-end forecast's 80% interval",
                lambda s: s.forecast.upper_micros),
        }
        for name, (text, value) in figures.items():
            family = GaugeMetricFamily(name, f"{text} (in the budget's currency)",
                                       labels=LABELS)
            for status in self.statuses:
                micros = value(status)
                if micros is not None:
                    family.add_metric(labels(status), micros_to_units(micros))
            yield family
        share = GaugeMetricFamily("costopt_budget_used_ratio", "Month to date over the "
                                  "budget (1 = all spent)", labels=LABELS)
        state = GaugeMetricFamily("costopt_budget_status", "1 for the budget's status "
                                  "(on_track, at_risk, over), 0 for the others",
                                  labels=["budget", "scope", "target", "status"])
        for status in self.statuses:
            if status.spent_share is not None:
                share.add_metric(labels(status), status.spent_share)
            for name in STATUSES:
                state.add_metric([status.budget.name, status.budget.scope,
                                  status.budget.target or "", name],
                                 1.0 if status.status == name else 0.0)
        yield share
        yield state
