"""What the API process holds: the store, the settings, and the latest analysis.

Analysis of a 20,000-topic fleet takes seconds, so it is computed once per store state (the
set of latest snapshot ids) and reused by every request until a new snapshot lands.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select

from costopt.analysis import FleetAnalysis, analyze_store
from costopt.config import Settings
from costopt.store import Store
from costopt.store import schema as store_schema
from costopt.store.store import StatusStore

T = TypeVar("T")
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

    def __post_init__(self) -> None:
        self.statuses = StatusStore(self.store)

    def _store_key(self) -> Any:
        """Changes whenever a snapshot is written (ids only grow)."""
        with self.store.engine.connect() as connection:
            return tuple(connection.execute(select(
                func.count(), func.max(store_schema.snapshots.c.id))).one())

    def analysis(self) -> FleetAnalysis:
        key = self._store_key()
        if self._analysis is not None and key == self._key:
            return self._analysis
        with self._lock:
            key = self._store_key()
            if self._analysis is None or key != self._key:
                self._analysis = analyze_store(self.store, self.settings)
                self._key = key
            return self._analysis

    def memo(self, analysis: FleetAnalysis, key: Hashable, build: Callable[[], T]) -> T:
        """An answer computed from `analysis` alone (not from statuses, jobs or a request
        body) is the same for every request until a new snapshot replaces the analysis:
        sorting, rolling up and fitting forecasts once per analysis, not once per request,
        is most of what a read costs. Bounded; cleared with the analysis it belongs to."""
        with self._memo_lock:
            if self._memo_of is not analysis:
                self._memo, self._memo_of, self._memo_rows = {}, analysis, 0
            if key in self._memo:
                return self._memo[key]
        value = build()
        items = value.get("items") if isinstance(value, dict) else None
        rows = len(items) + 1 if isinstance(items, list) else 100
        with self._memo_lock:
            if self._memo_of is analysis and self._memo_rows + rows <= MEMO_BUDGET_ROWS:
                self._memo[key] = value
                self._memo_rows += rows
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._analysis = None
            self._key = None
