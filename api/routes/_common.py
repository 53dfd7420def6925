"""Small helpers shared by the routes: money as text, lookups that 404 with a clear message,
and cursors, so no list is ever cut short silently."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import HTTPException

from costopt.analysis import ClusterAnalysis, FleetAnalysis
from costopt.cost.allocation import COMPONENTS
from costopt.cost.unit_cost import UnitCost, unit_cost_text
from costopt.money import rounded

T = TypeVar("T")


def unprocessable(where: str, field: str, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, so clients parse one shape."""
    return HTTPException(422, [{"loc": [where, *field.split(".")], "msg": f"{field}: {message}",
                                "type": "value_error"}])


def cluster_or_404(analysis: FleetAnalysis, name: str) -> ClusterAnalysis:
    if name not in analysis.clusters:
        known = ", ".join(sorted(analysis.clusters)) or "none"
        raise HTTPException(404, f"unknown cluster {name!r} (known: {known})")
    return analysis.clusters[name]


def cost_item(row: Any, currency: str) -> dict[str, Any]:
    return {"cluster": row.cluster, "topic": row.topic, "owner": row.owner,
            "monthly_cost": rounded(row.monthly_cost_micros), "currency": currency,
            "period": "month",
            **{c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS}}


def unit_fields(found: UnitCost) -> dict[str, Any]:
    """A unit cost as every answer and export carries it: never zero for "nothing to divide
    by" (null, with the reason), and its basis beside it."""
    return {"unit": found.unit, "unit_cost": unit_cost_text(found.cost_micros),
            "units_per_month": round(found.units_per_month, 6),
            "unit_cost_basis": found.basis, "unit_cost_reason": found.reason}


def encode_cursor(kind: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, *key], default=str).encode()).decode()


def decode_cursor(cursor: str | None, kind: str, length: int) -> list[Any] | None:
    """The key a cursor of this list carries, or None for the first page; 422 for anything
    this API did not issue for this list."""
    if cursor is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        decoded = None
    if not (isinstance(decoded, list) and len(decoded) == length + 1 and decoded[0] == kind):
        raise unprocessable("query", "cursor", "not a cursor this API issued for this list")
    return decoded[1:]


def offset_page(items: Sequence[T], limit: int, cursor: str | None, kind: str
                ) -> dict[str, Any]:
    """A page of a list that is fixed for the analysis it comes from (its order is stable), and
    the cursor of the next page; the last page's cursor is null."""
    key = decode_cursor(cursor, kind, 1)
    start = int(key[0]) if key is not None and isinstance(key[0], int) and key[0] >= 0 else 0
    if key is not None and start != key[0]:
        raise unprocessable("query", "cursor", "not a cursor this API issued for this list")
    page = list(items[start:start + limit])
    more = start + limit < len(items)
    return {"items": page, "next_cursor": encode_cursor(kind, [start + limit]) if more
            else None}
