"""Archived weekly reports."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from api.deps import ReadScope, StateDep
from api.schemas import Page, ReportSummary

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[ReadScope])


@router.get("", response_model=Page[ReportSummary])
def list_reports(state: StateDep) -> dict:
    return {"items": state.statuses.reports(), "next_cursor": None}


@router.get("/{report_id}", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}, 404: {}})
def get_report(report_id: str, state: StateDep) -> HTMLResponse:
    """The report as it was rendered: one self-contained HTML file."""
    html = state.statuses.report_html(report_id)
    if html is None:
        raise HTTPException(404, f"unknown report {report_id!r}")
    return HTMLResponse(html)
