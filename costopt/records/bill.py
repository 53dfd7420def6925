"""A bill as costopt keeps it: one provider's lines for one billing account and month.

The record sits below the store, which saves it (`store/bills.py`); `billing/` parses
files into it and reconciles it with the cost model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class BillLine:
    line_number: int  # in the file, the header being line 1
    cluster: str | None  # None: not tied to a cluster (support, tax, a credit)
    target: str  # a key of TARGETS
    category: str  # usage, tax, credit, fee, support, adjustment, purchase, other
    description: str
    resource_id: str | None
    amount_micros: int
    charge_start: datetime
    charge_end: datetime


@dataclass(frozen=True)
class Bill:
    """One provider's bill for one billing account and calendar month (`YYYY-MM`)."""

    provider: str
    account: str
    month: str
    format: str
    currency: str
    source_name: str
    source_digest: str  # sha256 of the file: importing it again changes nothing
    lines: tuple[BillLine, ...] = field(default=())

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.provider}\0{self.account}\0{self.month}".encode()
                              ).hexdigest()[:32]

    @property
    def total_micros(self) -> int:
        return sum(line.amount_micros for line in self.lines)
