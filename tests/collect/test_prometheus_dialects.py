"""Collection from a real Prometheus holding a simulated fleet, in each exporter dialect."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from costopt.config import ClusterSettings, PrometheusSettings
from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import DIALECTS
from costopt.snapshot.cluster_snapshot import ClusterSnapshot
from costopt.snapshot.metrics import Figure
from costopt.sources.collect import build_snapshot
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, PrometheusData, collect_prometheus
from costopt.sources.prometheus.queries import CATALOG, cluster_selector, render
from costopt.sources.source_errors import SourceError
from tests.stack.prometheus_server import PrometheusServer
from tests.stack.victoriametrics_server import VictoriaMetricsServer


def collect(server: PrometheusServer | VictoriaMetricsServer, fleet: Fleet,
            dialect: str) -> tuple[PrometheusData, ClusterSnapshot, pd.DataFrame]:
    """One collect of the fleet's first cluster from either backend."""
    cluster = fleet.clusters["cluster"].iloc[0]
    settings = PrometheusSettings(url=server.url, dialect=dialect,
                                  cluster_label=f"cluster_{dialect}")
    window = CollectWindow(at=fleet.end - timedelta(minutes=15), window_seconds=86_400,
                           lookback_seconds=3_600, history_days=7, hourly_days=2)
    data = collect_prometheus(PrometheusClient(settings, cluster), window, dialect)
    config = ClusterSettings(name=cluster, instance_type="m5.2xlarge", broker_count=3,
                             prometheus=settings)
    snapshot, series = build_snapshot(config, window.at, data, None, {})
    return data, snapshot, series


@pytest.fixture(scope="module")
def snapshots(fleet_prometheus: PrometheusServer, tiny_fleet: Fleet) -> dict:
    return {d: collect(fleet_prometheus, tiny_fleet, d) for d in DIALECTS}


def frame(snapshot: ClusterSnapshot) -> pd.DataFrame:
    return pd.DataFrame([asdict(t) for t in snapshot.topics]).set_index("name")


def test_every_dialect_sees_every_topic_with_its_partitions(snapshots: dict,
                                                            tiny_fleet: Fleet) -> None:
    cluster = tiny_fleet.clusters["cluster"].iloc[0]
    truth = tiny_fleet.topics[tiny_fleet.topics["cluster"] == cluster].set_index("topic")
    for dialect, (_, snapshot, _) in snapshots.items():
        got = frame(snapshot)
        assert set(got.index) == set(truth.index), dialect
        assert (got["partitions"] == truth.loc[got.index, "partitions"]).all(), dialect
        if dialect == "confluent_cloud":
            # The Metrics API exports no RF: Confluent Cloud's is 3 for every topic.
            assert (got["replication_factor"] == 3).all()
            continue
        assert (got["replication_factor"] == truth.loc[got.index, "replication_factor"]).all()


def test_same_snapshot_topic_for_topic_across_dialects(snapshots: dict) -> None:
    """Message rates from every dialect; bytes and sizes where a dialect exports them
    (kafka_exporter exports neither: its byte figures come from Kafka, not checked here)."""
    jmx, kminion, exporter = (frame(snapshots[d][1]) for d in ("jmx", "kminion",
                                                               "kafka_exporter"))
    # Offsets count whole messages: a slow topic's rate differs in the third digit.
    np.testing.assert_allclose(kminion["messages_in_per_second"],
                               jmx.loc[kminion.index, "messages_in_per_second"], rtol=5e-3)
    np.testing.assert_allclose(exporter["messages_in_per_second"],
                               jmx.loc[exporter.index, "messages_in_per_second"], rtol=5e-3)
    np.testing.assert_allclose(kminion["log_size_bytes"],
                               jmx.loc[kminion.index, "log_size_bytes"], rtol=1e-3, atol=2)
    busy = jmx["bytes_in_per_second"] > 100
    # kminion has no byte counters: bytes = messages × (log size / retained messages).
    np.testing.assert_allclose(kminion.loc[busy[busy].index, "bytes_in_per_second"],
                               jmx.loc[busy, "bytes_in_per_second"], rtol=0.02)
    kminion_groups = {(g.group, g.topic): g.lag_messages for g in snapshots["kminion"][1].groups}
    exporter_groups = {(g.group, g.topic): g.lag_messages
                       for g in snapshots["kafka_exporter"][1].groups}
    assert kminion_groups and kminion_groups == exporter_groups


def test_rates_match_what_the_simulator_produced(snapshots: dict, tiny_fleet: Fleet) -> None:
    """Prometheus 2.x ranges include their first instant (3.x excludes it and extrapolates
    the same span); the collector must give the mean rate of the day it was asked for."""
    cluster = tiny_fleet.clusters["cluster"].iloc[0]
    from costopt.simulate.series import cluster_series

    block = cluster_series(tiny_fleet, cluster)
    _, snapshot, _ = snapshots["jmx"]
    at = pd.Timestamp(tiny_fleet.end - timedelta(minutes=15))
    # The mean rate over the window is the simulated rate integrated over it: each hour
    # weighs by its overlap. The window is not whole hours (it ends 15 minutes into the
    # last one), and a bursty topic's burst just before it is partly inside.
    starts = block.hours
    ends = starts + pd.Timedelta(hours=1)
    overlap = ((np.minimum(ends, at) - np.maximum(starts, at - pd.Timedelta(days=1)))
               / pd.Timedelta(seconds=1)).to_numpy().clip(min=0)
    truth = pd.Series(block.bytes_in_per_second @ overlap / 86_400,
                      index=block.topics["topic"])
    got = frame(snapshot)["bytes_in_per_second"]
    busy = truth[truth > 100].index
    np.testing.assert_allclose(got[busy], truth[busy], rtol=0.05)


def test_history_has_daily_and_hourly_points(snapshots: dict) -> None:
    _, _, series = snapshots["jmx"]
    counts = series.groupby("resolution_seconds")["ts"].nunique()
    assert counts[86_400] >= 6 and counts[3_600] >= 40
    assert not series[["bytes_in_per_second", "log_size_bytes"]].isna().any().any()


def test_dialect_is_detected_from_metric_names(fleet_prometheus: PrometheusServer,
                                               tiny_fleet: Fleet) -> None:
    from costopt.sources.prometheus.collector import detect_dialect

    client = PrometheusClient(PrometheusSettings(url=fleet_prometheus.url), "x")
    assert detect_dialect(client, tiny_fleet.end - timedelta(days=7),
                          tiny_fleet.end) == "confluent_cloud"  # all present: first in DETECTION
    with pytest.raises(SourceError, match="none of the Kafka metrics"):
        detect_dialect(client, tiny_fleet.end - timedelta(days=900),
                       tiny_fleet.end - timedelta(days=800))
    # One Prometheus, clusters scraped by different exporters: each cluster's own dialect.
    cluster = tiny_fleet.clusters["cluster"].iloc[0]
    for dialect in DIALECTS:
        selector = cluster_selector(f"cluster_{dialect}", cluster)
        assert detect_dialect(client, tiny_fleet.end - timedelta(days=7), tiny_fleet.end,
                              selector) == dialect


@pytest.mark.parametrize("name", ['a"b', "a\\b", "a\\", 'x"} or vector(1) or {a="',
                                  "topic.*", "ünïcode-τόπος"])
def test_hostile_label_values_cannot_change_the_query(fleet_prometheus: PrometheusServer,
                                                      name: str) -> None:
    """Real Prometheus parses each query; a cluster named to inject PromQL matches nothing."""
    client = PrometheusClient(PrometheusSettings(url=fleet_prometheus.url), name)
    template = CATALOG["jmx"].now[Figure.BYTES_IN]
    query = render(template, sel=cluster_selector("cluster_jmx", name))
    from datetime import UTC, datetime

    assert client.instant(query, datetime.now(UTC)) == []


def test_bad_label_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid Prometheus label name"):
        cluster_selector('cluster"}', "x")

