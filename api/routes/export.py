"""The month's allocation as FOCUS 1.2 rows, for FinOps tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import unprocessable
from costopt.billing.focus_export import FOCUS_VERSION, focus_csv
from costopt.billing.month import reconcile

router = APIRouter(prefix="/v1/export", tags=["bills"], dependencies=[ReadScope])


@router.get("/focus", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_focus(
    analysis: AnalysisDep, state: StateDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
) -> Response:
    """FOCUS 1.2 CSV of the month's allocation: a row per topic side, reader and idle or
    unallocated row; `BilledCost` from the bill where the cluster has one (`x_Basis`).
    Computed on each call (not kept: on a large fleet it is tens of megabytes)."""
    try:
        allocation = reconcile(analysis, state.store, state.settings, month)
    except ValueError as exc:
        raise unprocessable("query", "month", str(exc)) from None
    return Response(focus_csv(allocation), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="focus-{month}.csv"',
        "X-FOCUS-Version": FOCUS_VERSION})
