"""Estimate vs bill for a month, and the month's allocation by owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.billing_schemas import Reconciliation
from api.deps import AnalysisDep, ReadScope, StateDep
from api.month import month_allocation, month_query, parsed_month
from api.presenters.reconciliation import reconciliation
from api.state import AppState
from costopt.analyze.analysis import FleetAnalysis
from costopt.billing.month import latest_billed_month
from costopt.billing.reconcile import Month
from costopt.store.bills import BillStore

router = APIRouter(prefix="/v1/reconciliation", tags=["bills"], dependencies=[ReadScope])


def month_or_default(state: AppState, analysis: FleetAnalysis, month: str | None) -> Month:
    """The month asked for; by default the newest with a bill, else the newest snapshot's."""
    if month is not None:
        return parsed_month(month)
    billed = latest_billed_month(state.store)
    if billed is not None:
        return parsed_month(billed)
    taken = [c.model.snapshot.taken_at for c in analysis.clusters.values()]
    return Month.of(max(taken)) if taken else Month.of(analysis.generated_at)


@router.get("", response_model=Reconciliation)
def get_reconciliation(
    analysis: AnalysisDep, state: StateDep,
    month: Annotated[str | None, month_query("YYYY-MM; default: the newest month with a "
                                             "bill")] = None,
) -> Reconciliation:
    """Per cluster: the estimate, the bill and the signed error (per component where the
    bill's lines allow), and the month's allocation by owner (billed where billed), split into
    producer, consumer and shared cost with the measured share of each."""
    chosen = month_or_default(state, analysis, month)
    key = ("reconciliation", chosen.label, BillStore(state.store).state_key())

    def build() -> Reconciliation:
        return reconciliation(month_allocation(analysis, state.store, state.settings, chosen))

    return state.memo(analysis, key, build)
