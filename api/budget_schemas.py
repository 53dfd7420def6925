"""Response models of the budget endpoints (beside `schemas.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
