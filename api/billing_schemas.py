"""Response models of the bill, reconciliation and export endpoints (beside `schemas.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Money = str  # decimal text; always with `currency` and `period` beside it


class StoredBill(BaseModel):
    id: str
    provider: str
    billing_account: str
    month: str = Field(description="YYYY-MM")
    format: Literal["focus", "cur", "confluent"]
    source_name: str
    imported_at: datetime
    lines: int
    total: Money
    currency: str
    period: Literal["month"] = "month"


class ImportedBill(BaseModel):
    id: str
    provider: str
    billing_account: str
    month: str
    outcome: Literal["stored", "replaced", "unchanged"]
    lines: int
    total: Money
    currency: str
    period: Literal["month"] = "month"


class BillImport(BaseModel):
    source: str
    format: Literal["focus", "cur", "confluent"]
    lines_read: int
    skipped: int = Field(description="lines of other services or of no known cluster")
    skipped_reasons: dict[str, int]
    changed: bool = Field(description="false when the same file was imported before")
    bills: list[ImportedBill]


class TargetReconciliation(BaseModel):
    target: str = Field(description="a cost component, a group of them (network, storage) as "
                                    "the bill names it, or other (support, credits, taxes)")
    estimate: Money
    bill: Money
    error_pct: float | None


class ClusterReconciliation(BaseModel):
    cluster: str
    basis: Literal["billed", "estimated"]
    month: str
    currency: str
    period: Literal["month"] = "month"
    estimate: Money | None
    bill: Money | None
    error_pct: float | None = Field(description="(bill - estimate) / estimate × 100: +7.0 "
                                                "means the bill is 7% above the estimate")
    unattributed: Money
    lines: int
    estimated_from: str | None = Field(description="the snapshot the estimate comes from")
    components: list[TargetReconciliation]


class OwnerCost(BaseModel):
    owner: str
    basis: str = Field(description="billed, estimated, or billed+estimated")
    producer: Money
    consumer: Money
    shared: Money
    monthly_cost: Money
    measured_share: float
    currency: str
    period: Literal["month"] = "month"


class Reconciliation(BaseModel):
    month: str
    currency: str
    period: Literal["month"] = "month"
    hours: float
    total: Money = Field(description="what the month's rows add up to: bills where billed, "
                                     "prorated estimates elsewhere")
    billed_clusters: int
    estimate_of_billed: Money | None
    bill: Money | None
    error_pct: float | None
    unassigned: Money
    clusters: list[ClusterReconciliation]
    owners: list[OwnerCost]
