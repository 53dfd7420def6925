"""Budgets as the API shows them: the domain's status of each (month to date, forecast,
thresholds reached, status) in the response model."""

from __future__ import annotations

from collections.abc import Iterable

from api.budget_schemas import Budget, BudgetPage
from costopt.budget.evaluate import BudgetStatus


def budget_response(status: BudgetStatus) -> Budget:
    return Budget.model_validate(status.to_dict())


def budgets_page(statuses: Iterable[BudgetStatus]) -> BudgetPage:
    """Every budget, by name (one page: there are tens, not thousands)."""
    return BudgetPage(items=[budget_response(s) for s in statuses], next_cursor=None)
