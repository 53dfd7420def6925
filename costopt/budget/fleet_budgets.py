"""Budgets over what the store holds: the config's and the stored ones, each evaluated
against the analysis's cost history and the month's imported bill, as of the analysed
snapshots (so the same store gives the same figures on any day)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from costopt.analyze.analysis import FleetAnalysis, chargeback_of
from costopt.base.errors import InvalidInput
from costopt.billing.reconcile import Month
from costopt.budget.evaluate import BudgetStatus, check_targets, evaluate
from costopt.budget.spend import CostHistory, cost_history
from costopt.config import Settings
from costopt.records.budget_spec import ConfiguredBudget
from costopt.store import Store
from costopt.store.bills import BillStore
from costopt.store.budgets import BudgetStore

Source = Literal["config", "api"]


def fleet_cost_history(analysis: FleetAnalysis) -> CostHistory:
    return cost_history([(c.model.cost, c.history.daily) for c in analysis.clusters.values()],
                        [chargeback_of(c) for c in analysis.clusters.values()])


def as_of(analysis: FleetAnalysis) -> datetime:
    """The newest analysed snapshot's time: what "to date" means for every budget."""
    taken = [c.model.snapshot.taken_at for c in analysis.clusters.values()]
    return max(taken) if taken else analysis.generated_at


def all_budgets(store: Store, settings: Settings) -> list[tuple[ConfiguredBudget, Source]]:
    """The config's budgets, then the stored ones, by name."""
    found: list[tuple[ConfiguredBudget, Source]] = [(b, "config") for b in settings.budgets]
    found += [(b, "api") for b in BudgetStore(store).budgets()]
    return sorted(found, key=lambda pair: pair[0].name)


def budget_statuses(analysis: FleetAnalysis, store: Store, settings: Settings,
                    history: CostHistory | None = None) -> list[BudgetStatus]:
    """Every budget's month to date, forecast and status."""
    budgets = all_budgets(store, settings)
    if not budgets:
        return []
    history = history or fleet_cost_history(analysis)
    moment = as_of(analysis)
    lines = BillStore(store).lines(Month.of(moment).label)
    return [evaluate(budget, source, history, lines, moment, analysis.currency)
            for budget, source in budgets]


def put_budget(budget: ConfiguredBudget, analysis: FleetAnalysis, store: Store,
               settings: Settings, history: CostHistory | None = None) -> BudgetStatus:
    """Check the budget against the analysis, store it, and evaluate it. Refused (nothing
    stored): an unknown owner or cluster, another currency, a name the config holds."""
    if any(b.name == budget.name for b in settings.budgets):
        raise ConfigBudget(f"name: budget {budget.name!r} is defined in the configuration "
                           "file; change it there")
    history = history or fleet_cost_history(analysis)
    check_targets(budget, history, analysis.currency)
    BudgetStore(store).put(budget)
    moment = as_of(analysis)
    return evaluate(budget, "api", history, BillStore(store).lines(Month.of(moment).label),
                    moment, analysis.currency)


class ConfigBudget(InvalidInput):
    """A REST write to a budget the configuration file defines."""

    field = "name"
