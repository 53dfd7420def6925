"""Where snapshots, series, samples and job runs are kept (SQLite by default, or PostgreSQL)."""

from costopt.store.store import Store, StoredSnapshot, StoreError, sqlite_url

__all__ = ["Store", "StoreError", "StoredSnapshot", "sqlite_url"]
