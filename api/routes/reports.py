"""Archived weekly reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from api.deps import ReadScope, StateDep
from api.routes._common import decode_cursor, encode_cursor
from api.schemas import Page, ReportSummary

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[ReadScope])


@router.get("", response_model=Page[ReportSummary])
def list_reports(state: StateDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    """Archived weekly reports, newest first; page with `cursor`."""
    key = decode_cursor(cursor, "reports", 2)
    before = (datetime.fromisoformat(str(key[0])), str(key[1])) if key is not None else None
    records = state.statuses.reports(limit=limit + 1, before=before)
    page = records[:limit]
    more = len(records) > limit
    return {"items": page, "next_cursor": encode_cursor(
        "reports", [page[-1]["created_at"].isoformat(), page[-1]["id"]]) if more else None}


@router.get("/{report_id}", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}, 404: {}})
def get_report(report_id: str, state: StateDep) -> HTMLResponse:
    """The report as it was rendered: one self-contained HTML file."""
    html = state.statuses.report_html(report_id)
    if html is None:
        raise HTTPException(404, f"unknown report {report_id!r}")
    return HTMLResponse(html)
