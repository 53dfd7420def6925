"""Estimate vs bill for a month, and the month's allocation by owner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.billing_schemas import Reconciliation
from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import unprocessable
from api.state import AppState
from costopt.analysis import FleetAnalysis
from costopt.billing.month import latest_billed_month, reconcile
from costopt.billing.reconcile import Month, owner_summary
from costopt.money import rounded
from costopt.store.bills import BillStore

router = APIRouter(prefix="/v1/reconciliation", tags=["bills"], dependencies=[ReadScope])
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def month_or_default(state: AppState, analysis: FleetAnalysis, month: str | None) -> Month:
    """The month asked for; by default the newest with a bill, else the newest snapshot's."""
    if month is not None:
        return Month.parse(month)
    billed = latest_billed_month(state.store)
    if billed is not None:
        return Month.parse(billed)
    taken = [c.model.snapshot.taken_at for c in analysis.clusters.values()]
    return Month.of(max(taken)) if taken else Month.of(analysis.generated_at)


@router.get("", response_model=Reconciliation)
def get_reconciliation(
    analysis: AnalysisDep, state: StateDep,
    month: Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM; default: the "
                                       "newest month with a bill")] = None,
) -> dict[str, Any]:
    """Per cluster: the estimate, the bill and the signed error (per component where the
    bill's lines allow), and the month's allocation by owner (billed where billed), split into
    producer, consumer and shared cost with the measured share of each."""
    try:
        chosen = month_or_default(state, analysis, month)
    except ValueError as exc:
        raise unprocessable("query", "month", str(exc)) from None
    key = ("reconciliation", chosen.label, BillStore(state.store).state_key())

    def build() -> dict[str, Any]:
        try:
            allocation = reconcile(analysis, state.store, state.settings, chosen)
        except ValueError as exc:
            raise unprocessable("query", "month", str(exc)) from None
        body = allocation.to_dict()
        body["owners"] = [{
            "owner": row.owner, "basis": row.basis, "producer": rounded(row.producer),
            "consumer": rounded(row.consumer), "shared": rounded(row.shared),
            "monthly_cost": rounded(row.monthly_cost_micros),
            "measured_share": round(float(row.measured_share), 4),
            "currency": allocation.currency, "period": "month"}
            for row in owner_summary(allocation.rows).itertuples(index=False)]
        return body

    return state.memo(analysis, key, build)
