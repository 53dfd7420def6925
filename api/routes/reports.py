"""Archived weekly reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from api.deps import ReadScope, StateDep
from api.paging import decode_cursor, keyset_page
from api.presenters.reports import reports_page
from api.schemas import Page, ReportSummary

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[ReadScope])


@router.get("", response_model=Page[ReportSummary])
def list_reports(state: StateDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                 cursor: str | None = None) -> Page[ReportSummary]:
    """Archived weekly reports, newest first; page with `cursor`."""
    key = decode_cursor(cursor, "reports", 2)
    before = (datetime.fromisoformat(str(key[0])), str(key[1])) if key is not None else None
    records = state.statuses.reports(limit=limit + 1, before=before)
    return reports_page(*keyset_page(records, limit, "reports",
                                     lambda r: [r["created_at"].isoformat(), r["id"]]))


@router.get("/{report_id}", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}, 404: {}})
def get_report(report_id: str, state: StateDep) -> HTMLResponse:
    """The report as it was rendered: one self-contained HTML file."""
    html = state.statuses.report_html(report_id)
    if html is None:
        raise HTTPException(404, f"unknown report {report_id!r}")
    return HTMLResponse(html)
