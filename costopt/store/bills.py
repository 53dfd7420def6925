"""Bills in the store: saved whole or not at all, idempotently.

A bill is keyed by provider, billing account and month. Saving a file's bills is one
transaction: a bill whose stored copy came from the same file (same digest) is left as it is;
any other replaces the stored one whole (a newer export of the month). So importing the same
file twice changes nothing, and a refused or failed import leaves what was there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
from sqlalchemy import delete, func, insert, select

from costopt.records.bill import Bill
from costopt.store import schema
from costopt.store.store import Store, _insert_many, _utc

Outcome = Literal["stored", "replaced", "unchanged"]
LINE_COLUMNS = ["bill_id", "provider", "billing_account", "currency", "line_number", "cluster",
                "target", "category", "description", "resource_id", "amount_micros",
                "charge_start", "charge_end"]


@dataclass(frozen=True)
class SavedBill:
    id: str
    provider: str
    account: str
    month: str
    outcome: Outcome
    lines: int
    total_micros: int
    currency: str


class BillStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, bills: Sequence[Bill]) -> list[SavedBill]:
        table, lines = schema.bills, schema.bill_lines
        saved = []
        now = datetime.now(UTC)
        with self.store.transaction() as connection:
            for bill in bills:
                digest = connection.execute(select(table.c.source_digest).where(
                    table.c.id == bill.id)).scalar()
                outcome: Outcome = "stored" if digest is None else (
                    "unchanged" if digest == bill.source_digest else "replaced")
                saved.append(SavedBill(bill.id, bill.provider, bill.account, bill.month,
                                       outcome, len(bill.lines), bill.total_micros,
                                       bill.currency))
                if outcome == "unchanged":
                    continue
                connection.execute(delete(lines).where(lines.c.bill_id == bill.id))
                connection.execute(delete(table).where(table.c.id == bill.id))
                connection.execute(insert(table).values(
                    id=bill.id, provider=bill.provider, billing_account=bill.account,
                    month=bill.month, format=bill.format, currency=bill.currency,
                    source_name=bill.source_name[:512], source_digest=bill.source_digest,
                    imported_at=now, lines=len(bill.lines), total_micros=bill.total_micros))
                _insert_many(connection, lines, (
                    {"bill_id": bill.id, "line_number": line.line_number,
                     "cluster": line.cluster, "target": line.target,
                     "category": line.category, "description": line.description,
                     "resource_id": line.resource_id, "amount_micros": line.amount_micros,
                     "charge_start": _utc(line.charge_start),
                     "charge_end": _utc(line.charge_end)} for line in bill.lines))
        return saved

    def bills(self, month: str | None = None) -> list[dict[str, Any]]:
        """Stored bills, newest month first, then by provider and account."""
        table = schema.bills
        query = select(table)
        if month is not None:
            query = query.where(table.c.month == month)
        with self.store.engine.connect() as connection:
            rows = connection.execute(query.order_by(
                table.c.month.desc(), table.c.provider, table.c.billing_account)).mappings()
            return [{**dict(row), "imported_at": _utc(row["imported_at"])} for row in rows]

    def months(self) -> list[str]:
        """Months with a bill, oldest first."""
        table = schema.bills
        with self.store.engine.connect() as connection:
            return [row[0] for row in connection.execute(
                select(table.c.month).distinct().order_by(table.c.month))]

    def lines(self, month: str) -> pd.DataFrame:
        """Every line of the month's bills, with its bill's provider, account and currency."""
        bills, lines = schema.bills, schema.bill_lines
        query = (select(lines.c.bill_id, bills.c.provider, bills.c.billing_account,
                        bills.c.currency, lines.c.line_number, lines.c.cluster,
                        lines.c.target, lines.c.category, lines.c.description,
                        lines.c.resource_id, lines.c.amount_micros, lines.c.charge_start,
                        lines.c.charge_end)
                 .join(bills, bills.c.id == lines.c.bill_id).where(bills.c.month == month)
                 .order_by(lines.c.bill_id, lines.c.line_number))
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame(rows, columns=LINE_COLUMNS)
        frame["amount_micros"] = frame["amount_micros"].astype("int64")
        for column in ("cluster", "resource_id"):  # None where no cluster, never NaN
            frame[column] = pd.Series([v if isinstance(v, str) else None
                                       for v in frame[column]], dtype=object,
                                      index=frame.index)
        return frame

    def state_key(self) -> tuple[int, str | None]:
        """Changes whenever a bill is stored or replaced."""
        table = schema.bills
        with self.store.engine.connect() as connection:
            count, latest = connection.execute(select(func.count(),
                                                      func.max(table.c.imported_at))).one()
        return int(count), str(latest) if latest is not None else None
