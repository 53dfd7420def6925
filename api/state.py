"""What the API process holds: the store, the settings, and the latest analysis.

Analysis of a 20,000-topic fleet takes seconds, so it is computed once per store state (the
set of latest snapshot ids) and reused by every request until a new snapshot lands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from costopt.analyze.analysis import FleetAnalysis, cached_analysis
from costopt.config import Settings
from costopt.store import Store
from costopt.store.store import StatusStore

T = TypeVar("T")
log = logging.getLogger("costopt.api")
# What the memo may hold per analysis, in rows of answers (a page counts its items, any other
# answer 100): about 100 MB at most, whatever readers ask for.
MEMO_BUDGET_ROWS = 200_000


@dataclass
class AppState:
    settings: Settings
    store: Store
    statuses: StatusStore = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _analysis: FleetAnalysis | None = None
    _key: Any = None
    jobs: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="job"))
    _memo: dict[Hashable, Any] = field(default_factory=dict)
    _memo_of: FleetAnalysis | None = None
    _memo_rows: int = 0
    _memo_lock: threading.Lock = field(default_factory=threading.Lock)
    warmed: str = "loading"
    _checked_at: float = -1e9

    def __post_init__(self) -> None:
        self.statuses = StatusStore(self.store)

    def _store_key(self) -> Any:
        """Changes whenever a snapshot is written (ids only grow)."""
        return self.store.state_key()

    def fresh_analysis(self) -> FleetAnalysis | None:
        """The analysis if the store was checked for new snapshots recently, else None."""
        if self._analysis is not None and \
                time.monotonic() - self._checked_at < self.settings.api.store_check_seconds:
            return self._analysis
        return None

    def analysis(self) -> FleetAnalysis:
        """The current analysis. Whether a new snapshot landed is asked of the store at most
        every `api.store_check_seconds` (a query per request was a third of a what-if's
        time); a new snapshot shows that much later."""
        now = time.monotonic()
        interval = self.settings.api.store_check_seconds
        if self._analysis is not None and now - self._checked_at < interval:
            return self._analysis
        key = self._store_key()
        self._checked_at = now
        if self._analysis is not None and key == self._key:
            return self._analysis
        with self._lock:
            key = self._store_key()
            if self._analysis is None or key != self._key:
                started = time.monotonic()
                self._analysis = cached_analysis(self.store, self.settings)
                self._key = key
                log.info("analysis ready in %.1f s", time.monotonic() - started)
            return self._analysis

    def warm(self) -> None:
        """Load (or compute) the analysis in the background as the server starts, so the first
        request does not wait, and readiness can say when it is there."""
        def load() -> None:
            try:
                self.analysis()
                self.warmed = "ready"
            except Exception as exc:  # reported by /readyz, retried by the next request
                self.warmed = f"failed: {exc}"
                log.error("analysis at start failed: %s", exc)
        threading.Thread(target=load, name="analysis-warm", daemon=True).start()

    def memo(self, analysis: FleetAnalysis, key: Hashable, build: Callable[[], T]) -> T:
        """An answer computed from `analysis` alone (not from statuses, jobs or a request
        body) is the same for every request until a new snapshot replaces the analysis:
        sorting, rolling up and fitting forecasts once per analysis, not once per request,
        is most of what a read costs. Bounded; cleared with the analysis it belongs to."""
        with self._memo_lock:
            if self._memo_of is not analysis:
                self._memo, self._memo_of, self._memo_rows = {}, analysis, 0
            if key in self._memo:
                result: T = self._memo[key]
                return result
        value = build()
        rows = _rows(value)
        with self._memo_lock:
            if self._memo_of is analysis and self._memo_rows + rows <= MEMO_BUDGET_ROWS:
                self._memo[key] = value
                self._memo_rows += rows
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._analysis = None
            self._key = None
            self._checked_at = -1e9


def _rows(value: Any) -> int:
    """What an answer weighs in the memo: a page (a response model or a dict with `items`)
    counts its items, a list its length, any other answer 100."""
    if isinstance(value, BaseModel):
        value = value.__dict__
    items = value.get("items") if isinstance(value, dict) else value
    return len(items) + 1 if isinstance(items, list) else 100
