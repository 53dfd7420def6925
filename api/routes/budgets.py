"""Monthly budgets: read them with their month to date, forecast and status; set and remove
them (admin). A refused budget gets 422 naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from starlette.concurrency import run_in_threadpool

from api.budget_schemas import Budget, BudgetPage
from api.deps import AdminScope, AnalysisDep, ReadScope, StateDep
from api.errors import unprocessable
from api.presenters.budgets import budget_response, budgets_page
from api.state import AppState
from costopt.analyze.analysis import FleetAnalysis
from costopt.budget.evaluate import BudgetStatus, UnknownTarget
from costopt.budget.fleet_budgets import (
    ConfigBudget,
    all_budgets,
    budget_statuses,
    fleet_cost_history,
    put_budget,
)
from costopt.budget.spend import CostHistory
from costopt.records.budget_spec import NAME_PATTERN, BudgetSpec, ConfiguredBudget
from costopt.store.bills import BillStore
from costopt.store.budgets import BudgetStore

router = APIRouter(prefix="/v1/budgets", tags=["budgets"])
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="the budget's name")]


def budget_history(state: AppState, analysis: FleetAnalysis) -> CostHistory:
    """The fleet's daily cost per topic, once per analysis."""
    return state.memo(analysis, ("budget-history",), lambda: fleet_cost_history(analysis))


def current_statuses(state: AppState, analysis: FleetAnalysis) -> list[BudgetStatus]:
    """Every budget's state, computed once per analysis, set of budgets and stored bills
    (a forecast per budget is most of what a read or a scrape costs)."""
    budgets = all_budgets(state.store, state.settings)
    key = ("budget-statuses", tuple((b.model_dump_json(), source) for b, source in budgets),
           BillStore(state.store).state_key())
    return state.memo(analysis, key, lambda: budget_statuses(
        analysis, state.store, state.settings, budget_history(state, analysis)))


@router.get("", response_model=BudgetPage, dependencies=[ReadScope])
def list_budgets(analysis: AnalysisDep, state: StateDep) -> BudgetPage:
    """Every budget (the config's and those set here), by name: month to date (`basis`:
    billed where the month's bill names the clusters, estimated elsewhere), the month-end
    forecast with its 80% interval, and `status` (on_track, at_risk, over)."""
    return budgets_page(current_statuses(state, analysis))


@router.get("/{name}", response_model=Budget, dependencies=[ReadScope])
def get_budget(name: Name, analysis: AnalysisDep, state: StateDep) -> Budget:
    for status in current_statuses(state, analysis):
        if status.budget.name == name:
            return budget_response(status)
    raise HTTPException(404, f"no budget named {name!r}")


@router.put("/{name}", response_model=Budget, dependencies=[AdminScope])
async def set_budget(name: Name, body: BudgetSpec, analysis: AnalysisDep,
                     state: StateDep) -> Budget:
    """Create or replace the named budget. 422 naming the field for an unknown owner or
    cluster, a negative amount, a pattern RE2 refuses, another currency, or a name the
    configuration file holds; nothing is stored then."""
    budget = ConfiguredBudget(name=name, **body.model_dump())
    try:
        status = await run_in_threadpool(put_budget, budget, analysis, state.store,
                                         state.settings, budget_history(state, analysis))
    except UnknownTarget as exc:
        raise unprocessable("body", exc.field, str(exc).split(": ", 1)[-1]) from None
    except ConfigBudget as exc:
        raise unprocessable("path", "name", str(exc).split(": ", 1)[-1]) from None
    return budget_response(status)


@router.delete("/{name}", status_code=204, dependencies=[AdminScope])
def delete_budget(name: Name, state: StateDep) -> None:
    """Remove a budget set over REST (those in the configuration file stay there)."""
    if any(b.name == name for b in state.settings.budgets):
        raise unprocessable("path", "name", f"budget {name!r} is defined in the "
                                            "configuration file; remove it there")
    if not BudgetStore(state.store).delete(name):
        raise HTTPException(404, f"no budget named {name!r}")
