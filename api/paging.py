"""The one cursor codec of the API, and the two ways a list pages with it.

A cursor is opaque to clients: URL-safe base64 of a JSON list, the list's kind first (so a
cursor of one list, or of one filter of a list, is refused by another) and then the key of
the last item served. Lists fixed for an analysis page by offset (`offset_page`); lists that
grow while a client walks them (jobs, reports, anomalies) page by the last item's key
(`keyset_page`), so a new row never shifts a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from api.errors import unprocessable

T = TypeVar("T")
NOT_OURS = "not a cursor this API issued for this list"


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
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
        raise unprocessable("query", "cursor", NOT_OURS)
    return decoded[1:]


def offset_of(cursor: str | None, kind: str) -> int:
    """Where the page a cursor of an offset-paged list asks for starts (0: the first page)."""
    key = decode_cursor(cursor, kind, 1)
    if key is None:
        return 0
    if not (isinstance(key[0], int) and not isinstance(key[0], bool) and key[0] >= 0):
        raise unprocessable("query", "cursor", NOT_OURS)
    return key[0]


def next_offset_cursor(kind: str, start: int, limit: int, total: int) -> str | None:
    """The cursor of the page after [start, start + limit), or None when that was the last."""
    return encode_cursor(kind, [start + limit]) if start + limit < total else None


def offset_page(items: Sequence[T], limit: int, cursor: str | None, kind: str
                ) -> tuple[list[T], str | None]:
    """A page of a list that is fixed for the analysis it comes from (its order is stable), and
    the cursor of the next page; the last page's cursor is null."""
    start = offset_of(cursor, kind)
    return list(items[start:start + limit]), next_offset_cursor(kind, start, limit, len(items))


def keyset_page(records: list[T], limit: int, kind: str, key: Callable[[T], list[Any]]
                ) -> tuple[list[T], str | None]:
    """The first `limit` of `records` (fetched `limit + 1`, so one more says there is a next
    page), and the cursor that carries the last one's key."""
    page = records[:limit]
    more = len(records) > limit
    return page, encode_cursor(kind, key(page[-1])) if more else None
