"""A real Prometheus holding a simulated fleet's history in all three exporter dialects."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import DIALECTS, write_openmetrics
from tests.fleets import fleet
from tests.stack.prometheus_server import PrometheusServer

BACKFILL_DAYS = 8
STEP_SECONDS = 900


@pytest.fixture(scope="session")
def tiny_fleet() -> Fleet:
    return fleet("tiny")


@pytest.fixture(scope="session")
def fleet_prometheus(tmp_path_factory: pytest.TempPathFactory,
                     tiny_fleet: Fleet) -> Iterator[PrometheusServer]:
    """Each dialect under its own cluster-label value, so collects do not mix dialects."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("fleet-prometheus")))
    server.start()
    for dialect in DIALECTS:
        text = io.StringIO()
        write_openmetrics(tiny_fleet, text, dialect, days=BACKFILL_DAYS,
                          step_seconds=STEP_SECONDS, cluster_label=f"cluster_{dialect}")
        server.backfill(text.getvalue())
    yield server
    server.stop()
