"""The store's database: the engine (SQLite by default, PostgreSQL by URL), the schema
brought up by Alembic, transactions, and the errors every part of the store raises."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, insert

from costopt.base.errors import CostoptError, InvalidInput, NotFound

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(CostoptError):
    """Something about the store: see the subclasses for what."""


class NothingStored(StoreError, NotFound):
    """The store holds no snapshot for what was asked."""


class RefusedData(StoreError, InvalidInput):
    """Data offered to the store that it will not keep (NaN, duplicate points): nothing of
    that write was stored."""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


class Database:
    """The connection every part of the store writes and reads through."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Who starts the job runs recorded through this store ("scheduler", or None): a new
        # scheduler leader closes the runs its dead predecessor left open, and only those.
        self.runner: str | None = None
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def _alembic(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def migrate(self, revision: str = "head") -> None:
        with self.engine.begin() as connection:
            command.upgrade(self._alembic(connection), revision)

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            command.downgrade(self._alembic(connection), revision)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _insert_many(connection: Connection, table: Any, rows: Iterable[dict[str, Any]],
                 chunk: int = 20_000) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


def _driver_rows(connection: Connection, query: Any) -> list[tuple[Any, ...]]:
    """The query's rows as the database driver gives them, plain tuples, with no SQLAlchemy
    result processing: for bulk reads of columns that need none (integers, floats, text;
    not SQLite's DateTime, which the driver returns as text). A day of 15-minute snapshots is
    hundreds of thousands of rows per cluster; a Row built per row was most of reading them."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()
