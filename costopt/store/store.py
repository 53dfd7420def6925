"""costopt's store: SQLite by default, PostgreSQL by URL, schema managed by Alembic.

Every write of a snapshot is one transaction and idempotent per (cluster, window): writing the
same window again replaces it whole, so a re-run never duplicates or half-writes.

`Store` is composed of one part per thing it stores (each in its own module): snapshots,
series, samples, the analysis cache and job runs, over one database. The names other modules
import from here stay importable from here.
"""

from __future__ import annotations

from costopt.store.analysis_cache import AnalysisCache
from costopt.store.database import (
    MIGRATIONS,
    NothingStored,
    RefusedData,
    StoreError,
    _insert_many,
    _utc,
    sqlite_url,
)
from costopt.store.job_runs import JobRuns
from costopt.store.sample_records import SampleRecords
from costopt.store.series_records import SERIES_COLUMNS, SeriesHistory, epoch_seconds
from costopt.store.snapshot_records import SnapshotRecords, StoredSnapshot
from costopt.store.status_store import StatusStore

__all__ = [
    "MIGRATIONS", "SERIES_COLUMNS", "NothingStored", "RefusedData", "SeriesHistory",
    "StatusStore", "Store", "StoreError", "StoredSnapshot", "_insert_many", "_utc",
    "epoch_seconds", "sqlite_url",
]


class Store(SnapshotRecords, SampleRecords, AnalysisCache, JobRuns):
    """Snapshots, series, samples, the analysis cache and job runs, over one database."""

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and bring the schema to the newest migration."""
        store = cls(url)
        store.migrate("head")
        return store
