"""Bills as the API shows them: what an import did, and the bills stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from api.billing_schemas import BillImport, ImportedBill, StoredBill
from api.schemas import Page
from costopt.base.money import rounded
from costopt.billing.importer import ImportResult


def bill_import(result: ImportResult) -> BillImport:
    return BillImport(
        source=result.source, format=result.format, lines_read=result.lines_read,
        skipped=result.skipped, skipped_reasons=result.skipped_reasons,
        changed=result.changed,
        bills=[ImportedBill(id=b.id, provider=b.provider, billing_account=b.account,
                            month=b.month, outcome=b.outcome, lines=b.lines,
                            total=rounded(b.total_micros), currency=b.currency)
               for b in result.bills])


def stored_bill(record: Mapping[str, Any]) -> StoredBill:
    return StoredBill.model_validate({**record, "total": rounded(record["total_micros"])})


def stored_bills_page(records: Iterable[Mapping[str, Any]]) -> Page[StoredBill]:
    """Every stored bill (one page: a bill a month per account)."""
    return Page[StoredBill](items=[stored_bill(r) for r in records], next_cursor=None)
