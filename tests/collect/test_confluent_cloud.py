"""The `confluent_cloud` dialect on a real Prometheus: the tiny fleet written as Confluent
Cloud's Metrics API export endpoint serves it (one-minute deltas per topic, retained bytes per
partition counting every replica, lag per group × topic × partition), collected back. Rates
and sizes must be within 1% of what the simulator wrote, topics and partitions exact."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from costopt.simulate.fleet import Fleet
from costopt.simulate.series import cluster_series
from tests.collect.conftest import STEP_SECONDS, planted_principals
from tests.collect.test_prometheus_dialects import collect
from tests.stack.prometheus_server import PrometheusServer


def _written_mean(values: np.ndarray, hours: pd.DatetimeIndex, start: pd.Timestamp,
                  end: pd.Timestamp) -> np.ndarray:
    """Mean of the hourly values at the samples written in [start, end): the minutes that
    began within the window, each sample carrying its hour's value."""
    stamps = pd.date_range(hours[0], hours[-1] + pd.Timedelta(seconds=3600 - STEP_SECONDS),
                           freq=f"{STEP_SECONDS}s")
    stamps = stamps[(stamps >= start) & (stamps < end)]
    index = hours.get_indexer(stamps.floor("h"))
    result: np.ndarray = np.asarray(values)[:, index].mean(axis=1)
    return result


def test_confluent_cloud_figures_are_what_the_simulator_wrote(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet) -> None:
    data, snapshot, series = collect(fleet_prometheus, tiny_fleet, "confluent_cloud")
    cluster = tiny_fleet.clusters["cluster"].iloc[0]
    block = cluster_series(tiny_fleet, cluster)
    truth = tiny_fleet.topics[tiny_fleet.topics["cluster"] == cluster].set_index("topic")
    got = pd.DataFrame([asdict(t) for t in snapshot.topics]).set_index("name")
    assert set(got.index) == set(truth.index)
    assert (got["partitions"] == truth.loc[got.index, "partitions"]).all()
    at = pd.Timestamp(tiny_fleet.end - timedelta(minutes=15))
    topics = list(block.topics["topic"])
    for column in ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"):
        # The simulator wrote whole units per minute: rounding is within 1% past 1/s.
        written = pd.Series(_written_mean(getattr(block, column), block.hours,
                                          at - pd.Timedelta(days=1), at), index=topics)
        live = written[written > 1].index
        assert len(live) > 10
        np.testing.assert_allclose(got.loc[live, column], written[live], rtol=0.01,
                                   err_msg=column)
    # Retained bytes counted every replica of every partition: one replica's size back.
    size = pd.Series(np.asarray(block.log_size_bytes)[:, -1], index=topics)
    np.testing.assert_allclose(got.loc[topics, "log_size_bytes"], size, rtol=0.01, atol=100)
    # Lag per partition adds up to the group's lag on the topic, exactly.
    lags = {(g.group, g.topic): g.lag_messages for g in snapshot.groups}
    _, kminion, _ = collect(fleet_prometheus, tiny_fleet, "kminion")
    assert lags and lags == {(g.group, g.topic): g.lag_messages for g in kminion.groups}
    # What the Metrics API cannot say is marked, with why; nothing is invented for it.
    assert {"broker_cpu", "broker_disk", "broker_count"} <= set(
        snapshot.labels["not_measured"].split(","))
    assert "Metrics API" in snapshot.labels["not_measured.broker_cpu"]
    assert all(b.cpu_utilisation is None for b in snapshot.brokers)
    assert data.brokers.empty
    # History at both resolutions, none of it empty.
    counts = series.groupby("resolution_seconds")["ts"].nunique()
    assert counts[86_400] >= 6 and counts[3_600] >= 40
    assert not series[["bytes_in_per_second", "log_size_bytes"]].isna().any().any()


def test_bytes_per_principal_are_what_the_simulator_planted(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet) -> None:
    """Produce request bytes and fetch response bytes per service account, for the whole
    cluster (the export has no topic on them), within 1% of the planted traffic; the other
    direction's requests (fetch requests, produce responses) are not counted."""
    _, snapshot, _ = collect(fleet_prometheus, tiny_fleet, "confluent_cloud")
    planted = planted_principals(tiny_fleet).set_index("principal_id")
    got = {p.principal_id: p for p in snapshot.principals}
    assert set(got) == set(planted.index)
    for principal, row in planted.iterrows():
        assert got[principal].topic is None
        assert got[principal].bytes_in_per_second == pytest.approx(
            row["bytes_in_per_second"], rel=0.01)
        assert got[principal].bytes_out_per_second == pytest.approx(
            row["bytes_out_per_second"], rel=0.01)
