"""A bill as costopt keeps it: lines of one provider, billing account and month, each tied to a
cluster where it can be, and to the cost components it pays for where the line says.

A line's `target` names what it pays for, at the granularity the bill gives: a component
(`compute`, `storage_local`, `network_consumer`...), a group of them (`network`: a transfer
line of a cloud bill covers replication, produce and consume traffic alike; `storage`), or
`other`: what the cost model has no component for (support, connectors, ksqlDB, credits,
taxes, fees). Every amount is integer micro-units of the bill's currency.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from costopt.cost.allocation import COMPONENTS

OTHER = "other"
TARGETS: dict[str, tuple[str, ...]] = {
    **{component: (component,) for component in COMPONENTS},
    "storage": ("storage_local", "storage_tiered"),
    "network": ("network_replication", "network_producer", "network_consumer"),
    OTHER: (),
}
FORMATS = ("focus", "cur", "confluent")


class BillFormatError(ValueError):
    """A bill file that cannot be imported; the message names the line and the column."""

    def __init__(self, source: str, line: int, column: str | None, message: str) -> None:
        self.source, self.line, self.column = source, line, column
        where = f"line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{source}: {where}: {message}")


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


@dataclass(frozen=True)
class ParsedFile:
    """What a file holds: its bills (one per provider, account and month) and how many of its
    lines were left out as not Kafka's (other services, resources of no known cluster)."""

    format: str
    bills: tuple[Bill, ...]
    lines_read: int
    skipped: int
    skipped_reasons: dict[str, int]
