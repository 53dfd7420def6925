"""Bills: import a month's invoice (admin), list what is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from api.billing_schemas import BillImport, StoredBill
from api.deps import AdminScope, ReadScope, StateDep
from api.month import month_query
from api.presenters.bills import bill_import, stored_bills_page
from api.schemas import Page
from costopt.billing.importer import import_bill
from costopt.billing.lines import BillFormatError

router = APIRouter(prefix="/v1/bills", tags=["bills"])
CSV_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string", "description": "the bill file: FOCUS 1.x, AWS "
                            "CUR 2.0 or a Confluent Cloud cost export"}}}}}


@router.post("", response_model=BillImport, dependencies=[AdminScope], openapi_extra=CSV_BODY)
async def post_bill(
    request: Request, state: StateDep,
    format: Annotated[Literal["focus", "cur", "confluent"] | None,
                      Query(description="default: told by the header")] = None,
    name: Annotated[str, Query(max_length=512, description="the file's name, for the record")]
    = "upload.csv",
) -> BillImport:
    """Import a bill file sent as the request body. Idempotent: the same file again changes
    nothing (`changed: false`); a newer export of a month replaces that month's bill. A
    malformed file is refused with 422 naming its line and column, and nothing is stored."""
    data = await request.body()
    try:
        result = await run_in_threadpool(import_bill, state.store, state.settings, data, name,
                                         format)
    except BillFormatError as exc:
        location = ["body", f"line {exc.line}", *([exc.column] if exc.column else [])]
        raise HTTPException(422, [{"loc": location, "msg": str(exc),
                                   "type": "value_error"}]) from None
    return bill_import(result)


@router.get("", response_model=Page[StoredBill], dependencies=[ReadScope])
def list_bills(
    state: StateDep, month: Annotated[str | None, month_query()] = None,
) -> Page[StoredBill]:
    """Stored bills, newest month first."""
    from costopt.store.bills import BillStore

    return stored_bills_page(BillStore(state.store).bills(month))
