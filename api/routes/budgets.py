"""Monthly budgets: read them with their month to date, forecast and status; set and remove
them (admin). A refused budget gets 422 naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.deps import AdminScope, AnalysisDep, ReadScope, StateDep
from api.routes._common import unprocessable
from api.state import AppState
from costopt.analysis import FleetAnalysis
from costopt.budget.evaluate import BudgetStatus, UnknownTarget
from costopt.budget.fleet import (
    ConfigBudget,
    all_budgets,
    budget_statuses,
    fleet_cost_history,
    put_budget,
)
from costopt.budget.model import NAME_PATTERN, BudgetSpec, ConfiguredBudget
from costopt.budget.spend import CostHistory
from costopt.budget.store import BudgetStore
from costopt.store.bills import BillStore

router = APIRouter(prefix="/v1/budgets", tags=["budgets"])
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="the budget's name")]


class BudgetForecast(BaseModel):
    month_end: str
    lower: str | None
    upper: str | None
    level: float | None
    method: str
    share: float | None


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    scope: str
    target: str | None
    source: str
    amount: str
    currency: str
    period: str
    month: str
    as_of: str
    thresholds: list[float]
    month_to_date: str
    basis: str
    month_to_date_share: float | None
    thresholds_reached: list[float]
    forecast: BudgetForecast
    status: str


class BudgetPage(BaseModel):
    items: list[Budget]
    next_cursor: str | None = None


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
def list_budgets(analysis: AnalysisDep, state: StateDep) -> dict[str, Any]:
    """Every budget (the config's and those set here), by name: month to date (`basis`:
    billed where the month's bill names the clusters, estimated elsewhere), the month-end
    forecast with its 80% interval, and `status` (on_track, at_risk, over)."""
    return {"items": [s.to_dict() for s in current_statuses(state, analysis)],
            "next_cursor": None}


@router.get("/{name}", response_model=Budget, dependencies=[ReadScope])
def get_budget(name: Name, analysis: AnalysisDep, state: StateDep) -> dict[str, Any]:
    for item in list_budgets(analysis, state)["items"]:
        if item["name"] == name:
            return item  # type: ignore[no-any-return]
    raise HTTPException(404, f"no budget named {name!r}")


@router.put("/{name}", response_model=Budget, dependencies=[AdminScope])
async def set_budget(name: Name, body: BudgetSpec, analysis: AnalysisDep,
                     state: StateDep) -> dict[str, Any]:
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
    return status.to_dict()


@router.delete("/{name}", status_code=204, dependencies=[AdminScope])
def delete_budget(name: Name, state: StateDep) -> None:
    """Remove a budget set over REST (those in the configuration file stay there)."""
    if any(b.name == name for b in state.settings.budgets):
        raise unprocessable("path", "name", f"budget {name!r} is defined in the "
                                            "configuration file; remove it there")
    if not BudgetStore(state.store).delete(name):
        raise HTTPException(404, f"no budget named {name!r}")
