"""A real Prometheus and a real VictoriaMetrics holding a simulated fleet's history in all three
exporter dialects; and the same fleet's last day at a real scrape interval and cardinality."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import DIALECTS, victoriametrics_import, write_openmetrics
from tests.fleets import fleet
from tests.stack.prometheus_server import PrometheusServer
from tests.stack.victoriametrics_server import VictoriaMetricsServer

BACKFILL_DAYS = 8
STEP_SECONDS = 900


@pytest.fixture(scope="session")
def tiny_fleet() -> Fleet:
    return fleet("tiny")


def planted_principals(tiny: Fleet) -> pd.DataFrame:
    """Service accounts for the tiny fleet's cluster, each producing and fetching a fixed
    share of its traffic (Confluent's request and response bytes are per principal for the
    whole cluster)."""
    (cluster,) = tiny.clusters["cluster"]
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame({"cluster": cluster,
                         "principal_id": [f"sa-{n:05d}" for n in (101, 202, 303, 404)],
                         "bytes_in_per_second": 2.0e6 * shares,
                         "bytes_out_per_second": 5.0e6 * shares[::-1]})


def _options(tiny: Fleet, dialect: str) -> dict[str, Any]:
    """What each dialect is written with: Confluent's export also says who sent the bytes."""
    return {"principals": planted_principals(tiny)} if dialect == "confluent_cloud" else {}


@pytest.fixture(scope="session")
def fleet_prometheus(tmp_path_factory: pytest.TempPathFactory,
                     tiny_fleet: Fleet) -> Iterator[PrometheusServer]:
    """Each dialect under its own cluster-label value, so collects do not mix dialects."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("fleet-prometheus")))
    server.start()
    for dialect in DIALECTS:
        text = io.StringIO()
        write_openmetrics(tiny_fleet, text, dialect, days=BACKFILL_DAYS,
                          step_seconds=STEP_SECONDS, cluster_label=f"cluster_{dialect}",
                          **_options(tiny_fleet, dialect))
        server.backfill(text.getvalue())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fleet_victoriametrics(tmp_path_factory: pytest.TempPathFactory,
                          tiny_fleet: Fleet) -> Iterator[VictoriaMetricsServer]:
    """The same histories as `fleet_prometheus`, loaded through the import API."""
    server = VictoriaMetricsServer(Path(tmp_path_factory.mktemp("fleet-victoriametrics")))
    server.start()
    for dialect in DIALECTS:
        server.import_lines(victoriametrics_import(
            tiny_fleet, dialect, days=BACKFILL_DAYS, step_seconds=STEP_SECONDS,
            cluster_label=f"cluster_{dialect}", **_options(tiny_fleet, dialect)))
    yield server
    server.stop()


REAL_DAYS = 1  # of the tiny fleet, at a 30 s scrape, per partition and replica (JMX)


@pytest.fixture(scope="session")
def real_history(tmp_path_factory: pytest.TempPathFactory, tiny_fleet: Fleet) -> Path:
    """TSDB blocks of the tiny fleet's last day as the JMX exporter writes it (1,600 series,
    4.6M samples), built once for the servers that need them."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("real-history")))
    text = server.workdir / "history.om"
    with text.open("w") as out:
        write_openmetrics(tiny_fleet, out, "jmx", days=REAL_DAYS)
    server.backfill(text)
    text.unlink()
    return server.storage
