"""Session-wide fixtures: the real Kafka + Prometheus stack, started once and stopped at the end.

A missing server is a failure, never a skip: the stack's start raises with the server's log tail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from costopt.store import Store, sqlite_url
from tests.parallel import configure, mark_groups
from tests.stack.postgres_server import PostgresServer
from tests.stack.prometheus_server import PrometheusServer
from tests.stack.stack import Stack, new_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    running = new_stack()
    running.start()
    yield running
    running.stop()
    shutil.rmtree(running.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def empty_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus that scrapes nothing, for backfilled (simulated) histories."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("prometheus-backfill")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """PostgreSQL runs as the `postgres` user, who cannot enter pytest's 0700 temp dirs."""
    import os
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="costopt-pg-"))
    os.chmod(workdir, 0o755)
    server = PostgresServer(workdir / "server")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Every store test runs on the embedded default and on a real PostgreSQL."""
    if request.param == "sqlite":
        return Store.open(sqlite_url(tmp_path / "costopt.db"))
    server = request.getfixturevalue("postgres")
    return Store.open(server.new_database())
def pytest_configure(config: pytest.Config) -> None:
    configure(config)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_groups(config, items)
