"""A bill as costopt keeps it: lines of one provider, billing account and month, each tied to a
cluster where it can be, and to the cost components it pays for where the line says.

A line's `target` names what it pays for, at the granularity the bill gives: a component
(`compute`, `storage_local`, `network_consumer`...), a group of them (`network`: a transfer
line of a cloud bill covers replication, produce and consume traffic alike; `storage`), or
`other`: what the cost model has no component for (support, connectors, ksqlDB, credits,
taxes, fees). Every amount is integer micro-units of the bill's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from costopt.cost.allocation import COMPONENTS
from costopt.records.bill import Bill

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
class ParsedFile:
    """What a file holds: its bills (one per provider, account and month) and how many of its
    lines were left out as not Kafka's (other services, resources of no known cluster)."""

    format: str
    bills: tuple[Bill, ...]
    lines_read: int
    skipped: int
    skipped_reasons: dict[str, int]
