"""The month's allocation as FOCUS rows (1.3 by default, 1.2 or 1.4 on request), for FinOps
tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import AnalysisDep, ReadScope, StateDep
from api.errors import unprocessable
from api.month import month_allocation, month_query
from costopt.billing.focus_export import DEFAULT_FOCUS_VERSION, FOCUS_VERSIONS, focus_csv

router = APIRouter(prefix="/v1/export", tags=["bills"], dependencies=[ReadScope])


@router.get("/focus", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_focus(
    analysis: AnalysisDep, state: StateDep,
    month: Annotated[str, month_query()],
    focus_version: Annotated[str, Query(
        description=f"the FOCUS version: {', '.join(FOCUS_VERSIONS)}")] = DEFAULT_FOCUS_VERSION,
) -> Response:
    """FOCUS CSV of the month's allocation (1.3 unless `focus_version` says 1.2 or 1.4): a row
    per topic side, reader and idle or unallocated row; `BilledCost` from the bill where the
    cluster has one (`x_Basis`). Computed on each call (not kept: on a large fleet it is tens
    of megabytes)."""
    if focus_version not in FOCUS_VERSIONS:
        raise unprocessable("query", "focus_version",
                            f"{focus_version!r} is not one of {', '.join(FOCUS_VERSIONS)}")
    allocation = month_allocation(analysis, state.store, state.settings, month)
    return Response(focus_csv(allocation, focus_version), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="focus-{month}.csv"',
        "X-FOCUS-Version": focus_version})
