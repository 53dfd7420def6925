"""The audit trail of applied topic config changes as the API lists it."""

from __future__ import annotations

from typing import Any

from api.schemas import AppliedChange, Page


def changes_page(rows: list[dict[str, Any]], next_cursor: str | None) -> Page[AppliedChange]:
    return Page[AppliedChange](items=[AppliedChange.model_validate(r) for r in rows],
                               next_cursor=next_cursor)
