"""The month a query names (`month=YYYY-MM`): one type for every route that takes one, checked
by the domain's pattern and parsed by the domain's `Month`, so the two cannot disagree."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from api.errors import unprocessable
from costopt.analyze.analysis import FleetAnalysis
from costopt.billing.month import reconcile
from costopt.billing.reconcile import MONTH_PATTERN, Month, MonthAllocation
from costopt.config import Settings
from costopt.store import Store


def month_query(description: str = "YYYY-MM") -> Any:
    """The query parameter of a month, with the route's own words for it."""
    return Query(pattern=MONTH_PATTERN, description=description)


def parsed_month(text: str) -> Month:
    """The month a query parameter names; 422 naming `month` for one outside the calendar."""
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise unprocessable("query", "month", str(exc)) from None


def month_allocation(analysis: FleetAnalysis, store: Store, settings: Settings,
                     month: Month | str) -> MonthAllocation:
    """The month's allocation (billed where billed); 422 naming `month` for one it cannot
    allocate."""
    try:
        return reconcile(analysis, store, settings, month)
    except ValueError as exc:
        raise unprocessable("query", "month", str(exc)) from None
