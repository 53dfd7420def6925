"""Archived weekly reports as the API lists them."""

from __future__ import annotations

from typing import Any

from api.schemas import Page, ReportSummary


def reports_page(records: list[dict[str, Any]], next_cursor: str | None
                 ) -> Page[ReportSummary]:
    return Page[ReportSummary](items=[ReportSummary.model_validate(r) for r in records],
                               next_cursor=next_cursor)
