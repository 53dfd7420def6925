"""VictoriaMetrics as a second real backend: the `tiny` fleet's history in every exporter
dialect, loaded into a real Prometheus (promtool) and a real VictoriaMetrics (its import
API), collected from each. Same snapshot: topics, partitions and RF exact; rates and sizes
within 1% (the two compute `increase` differently: Prometheus extrapolates to the window's
edges, VictoriaMetrics starts from the last sample before the window)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import DIALECTS
from costopt.snapshot.cluster_snapshot import ClusterSnapshot
from tests.collect.test_prometheus_dialects import collect
from tests.stack.prometheus_server import PrometheusServer
from tests.stack.victoriametrics_server import VictoriaMetricsServer

FIGURES = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
           "log_size_bytes")


def _topics(snapshot: ClusterSnapshot) -> pd.DataFrame:
    return pd.DataFrame([asdict(t) for t in snapshot.topics]).set_index("name").sort_index()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_prometheus_and_victoriametrics_give_the_same_snapshot(
        fleet_prometheus: PrometheusServer, fleet_victoriametrics: VictoriaMetricsServer,
        tiny_fleet: Fleet, dialect: str) -> None:
    _, prometheus, prometheus_series = collect(fleet_prometheus, tiny_fleet, dialect)
    _, victoria, victoria_series = collect(fleet_victoriametrics, tiny_fleet, dialect)
    expected, got = _topics(prometheus), _topics(victoria)
    assert list(got.index) == list(expected.index)
    for column in ("partitions", "replication_factor"):
        assert (got[column] == expected[column]).all(), column
    for column in FIGURES:
        np.testing.assert_allclose(got[column], expected[column], rtol=0.01, atol=1e-6,
                                   err_msg=column)
    lags = {(g.group, g.topic): g.lag_messages for g in prometheus.groups}
    assert {(g.group, g.topic): g.lag_messages for g in victoria.groups} == lags
    # Bytes per principal (Confluent Cloud's export only).
    assert [p.principal_id for p in victoria.principals] == [
        p.principal_id for p in prometheus.principals]
    for ours, theirs in zip(victoria.principals, prometheus.principals, strict=True):
        assert ours.bytes_in_per_second == pytest.approx(theirs.bytes_in_per_second, rel=0.01)
        assert ours.bytes_out_per_second == pytest.approx(theirs.bytes_out_per_second,
                                                          rel=0.01)
    keys = ["topic", "ts", "resolution_seconds"]
    joined = victoria_series.merge(prometheus_series, on=keys, suffixes=("", "_prometheus"))
    assert len(joined) == len(prometheus_series) == len(victoria_series)
    for column in FIGURES:
        np.testing.assert_allclose(joined[column], joined[f"{column}_prometheus"], rtol=0.01,
                                   atol=1e-6, err_msg=column)
