"""A collect from a real Prometheus whose limits are far below the defaults
(`--query.max-samples=20000`, `--query.timeout=3s`), holding the `tiny` fleet's last day
as the JMX exporter writes it: per partition × replica and per topic × broker, every 30 s.
The history queries costopt sent before it planned within limits fail there; the planned
collect finishes within them, and a collect that does not know the limits asks again in
smaller parts. Timing is never asserted: a busy machine only makes more parts. The sample
limit is what refuses here, every time; the timeout is 3 s, not lower, because under a
parallel `make test` on two cores even a one-partition query's series lookup has taken
longer than 200 ms (refused, and too small to split)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from costopt.config import PrometheusSettings
from costopt.simulate.fleet import Fleet
from costopt.simulate.series import cluster_series
from costopt.snapshot.metrics import Figure
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, PrometheusData, collect_prometheus
from costopt.sources.prometheus.queries import CATALOG, cluster_selector, history_key, render
from costopt.sources.source_errors import SourceError
from tests.fleets import FIXED_END
from tests.stack.prometheus_server import PrometheusServer

MAX_SAMPLES = 20_000
LIMITS = [f"--query.max-samples={MAX_SAMPLES}", "--query.timeout=3s"]
# What fits those limits: 300k samples take Prometheus about 35 ms on one core.
BUDGET = {"max_samples": MAX_SAMPLES, "max_samples_read": 300_000}
WINDOW = CollectWindow(at=FIXED_END, window_seconds=3600, lookback_seconds=600,
                       history_days=1, hourly_days=1)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory,
            real_history: Path) -> Iterator[PrometheusServer]:
    server = PrometheusServer(Path(tmp_path_factory.mktemp("limited")), flags=LIMITS,
                              query_log=True)
    server.copy_blocks_from(real_history)
    server.start()
    yield server
    server.stop()


def _collect(server: PrometheusServer, fleet: Fleet, **settings: object) -> PrometheusData:
    cluster = fleet.clusters["cluster"].iloc[0]
    client = PrometheusClient(PrometheusSettings(url=server.url, dialect="jmx",
                                                 **settings), cluster)  # type: ignore[arg-type]
    return collect_prometheus(client, WINDOW, "jmx")


def test_todays_history_queries_fail_on_this_server(limited: PrometheusServer,
                                                    tiny_fleet: Fleet) -> None:
    """Each history figure over its whole range in one query, as costopt asked before."""
    sel = cluster_selector("cluster", tiny_fleet.clusters["cluster"].iloc[0])
    refused = {}
    for step in (3600, 86_400):
        for figure, query in CATALOG["jmx"].over_time():
            answer = httpx.get(f"{limited.url}/api/v1/query_range", timeout=60, params={
                "query": render(query, sel=sel, window_seconds=step),
                "start": (FIXED_END - timedelta(days=1) + timedelta(seconds=step)).timestamp(),
                "end": FIXED_END.timestamp(), "step": step})
            if answer.status_code != 200:
                refused[history_key(figure, step)] = answer.json()["error"]
    # 1,201 log-size series × 24 hourly steps are more than 20,000 samples held at once.
    # (A daily point of them reads 3.5M samples, about 150 ms on a quiet machine; whether it
    # times out depends on the machine's load: not asserted.)
    assert "too many samples" in refused[history_key(Figure.LOG_SIZE, 3600)]


def test_a_collect_within_the_limits_finishes_and_matches_the_simulator(
        limited: PrometheusServer, tiny_fleet: Fleet, caplog: pytest.LogCaptureFixture) -> None:
    mark = len(limited.queries())
    with caplog.at_level(logging.WARNING, logger="costopt.sources.collect"):
        data = _collect(limited, tiny_fleet, **BUDGET)
        again = _collect(limited, tiny_fleet, **BUDGET)
    log = limited.queries()[mark:]
    # Planned within the limits, no query holds too many samples. (One may still time out on
    # a machine busy enough to slow a 35 ms query eighty-fold: it is asked again in parts.)
    answered = [entry for entry in log if "error" not in entry]
    assert not any("too many samples" in entry.get("error", "") for entry in log)
    assert max(entry["stats"]["samples"]["peakSamples"] for entry in answered) <= MAX_SAMPLES
    # The rules would make it cheaper: said once, as a warning, for both collects.
    warnings = [r for r in caplog.records if "costopt-rules.yml" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    pd.testing.assert_frame_equal(data.topics, again.topics)

    cluster = tiny_fleet.clusters["cluster"].iloc[0]
    block = cluster_series(tiny_fleet, cluster)
    truth = block.topics.set_index("topic")
    got = data.topics.loc[truth.index]
    assert (got["partitions"] == truth["partitions"]).all()
    assert (got["replication_factor"] == truth["replication_factor"]).all()
    # The last hour's rate and size, as simulated.
    busy = block.bytes_in_per_second[:, -1] > 100
    np.testing.assert_allclose(got["bytes_in_per_second"].to_numpy()[busy],
                               block.bytes_in_per_second[busy, -1], rtol=0.02)
    # Each partition's share is rounded to whole bytes.
    error = np.abs(got["log_size_bytes"].to_numpy() - block.log_size_bytes[:, -1])
    assert (error <= truth["partitions"].to_numpy() + 1e-3 * block.log_size_bytes[:, -1]).all()
    hourly = data.series[data.series["resolution_seconds"] == 3600]
    assert hourly["ts"].nunique() == 24 and set(hourly["topic"]) <= set(truth.index)
    daily = data.series[data.series["resolution_seconds"] == 86_400]
    assert daily["ts"].nunique() == 1


def test_refused_queries_are_asked_again_in_smaller_parts(limited: PrometheusServer,
                                                          tiny_fleet: Fleet) -> None:
    """Budgets left at their defaults: the collect plans as for a server with default
    limits, this one refuses, and the refused queries are asked again in parts."""
    planned = _collect(limited, tiny_fleet, **BUDGET)
    data = _collect(limited, tiny_fleet)
    assert data.refused > 0
    pd.testing.assert_frame_equal(data.topics, planned.topics, rtol=1e-9)
    columns = ["topic", "ts", "resolution_seconds"]
    pd.testing.assert_frame_equal(
        data.series.sort_values(columns).reset_index(drop=True),
        planned.series.sort_values(columns).reset_index(drop=True), rtol=1e-9)


def test_recording_rules_on_without_the_rules_is_a_clear_error(limited: PrometheusServer,
                                                                tiny_fleet: Fleet) -> None:
    with pytest.raises(SourceError, match=r"recording_rules is on.*"
                       r"cluster_topic:kafka_server_brokertopicmetrics_bytesin:rate5m.*"
                       r"costopt-rules\.yml"):
        _collect(limited, tiny_fleet, recording_rules="on", **BUDGET)
