"""The store every store test runs on: the embedded default and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from costopt.store import Store, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Every store test runs on the embedded default and on a real PostgreSQL."""
    if request.param == "sqlite":
        return Store.open(sqlite_url(tmp_path / "costopt.db"))
    server = request.getfixturevalue("postgres")
    return Store.open(server.new_database())
