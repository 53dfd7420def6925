"""The `confluent` demo preset (Standard, Dedicated and Freight clusters with service
accounts) written as Confluent Cloud's Metrics API export serves it, into a real Prometheus,
and collected back cluster by cluster: each service account's bytes produced and fetched
(Confluent's request and response bytes per `principal_id`, for the whole cluster) within 1%
of the traffic the simulator planted, and every topic seen with its partitions. Each cluster
is selected by its `kafka_id` and its dialect detected (`dialect: auto`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costopt.config import ClusterSettings, PrometheusSettings, ScheduleSettings, Settings
from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import kafka_id, principal_rates, write_openmetrics
from costopt.simulate.series import cluster_series
from costopt.sources.collect import build_snapshot, collect_cluster
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, collect_prometheus
from costopt.store import Store, sqlite_url
from tests.fleets import fleet
from tests.stack.prometheus_server import PrometheusServer

HOURS = 2
STEP_SECONDS = 60  # the export's own resolution, as a scrape a minute stores it


@pytest.fixture(scope="module")
def confluent() -> Fleet:
    return fleet("confluent")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory,
             confluent: Fleet) -> Iterator[PrometheusServer]:
    server = PrometheusServer(Path(tmp_path_factory.mktemp("confluent-preset")))
    text = server.workdir / "export.om"
    with text.open("w") as out:
        write_openmetrics(confluent, out, "confluent_cloud", days=HOURS / 24,
                          step_seconds=STEP_SECONDS)
    server.backfill(text)
    text.unlink()
    server.start()
    yield server
    server.stop()


def test_service_accounts_bytes_are_what_the_simulator_planted(
        exported: PrometheusServer, confluent: Fleet) -> None:
    at = pd.Timestamp(confluent.end - timedelta(minutes=10))
    window = CollectWindow(at=at.to_pydatetime(), window_seconds=3600, lookback_seconds=600,
                           history_days=1, hourly_days=1)
    for cluster in confluent.clusters["cluster"]:
        # Selected as docs/collection.md configures it: by the export's own `kafka_id`, the
        # dialect detected from the cluster's series.
        settings = PrometheusSettings(url=exported.url, dialect="auto", cluster_label="kafka_id",
                                      cluster_label_value=kafka_id(cluster))
        data = collect_prometheus(PrometheusClient(settings, cluster), window, "auto")
        assert data.dialect == "confluent_cloud"
        config = ClusterSettings(name=cluster, prometheus=settings)
        snapshot, _ = build_snapshot(config, window.at, data, None, {})
        truth = confluent.topics[confluent.topics["cluster"] == cluster]
        assert {t.name: t.partitions for t in snapshot.topics} == dict(
            zip(truth["topic"], truth["partitions"], strict=True))
        # What was written: each minute that began within the window, at its hour's rates.
        block = cluster_series(confluent, cluster)
        minutes = pd.date_range(at - pd.Timedelta(hours=1), at, freq="60s", inclusive="left")
        hours = block.hours.get_indexer(minutes.floor("h"))
        planted = {principal: {column: float(np.mean(np.asarray(values)[hours]))
                               for column, values in rates.items()}
                   for principal, rates in principal_rates(block, confluent.principals).items()}
        got = {p.principal_id: p for p in snapshot.principals}
        assert planted and set(got) == set(planted), cluster
        for principal, rates in planted.items():
            assert got[principal].topic is None
            for column, value in rates.items():
                measured = getattr(got[principal], column)
                assert measured == pytest.approx(value, rel=0.01, abs=1.0), (cluster,
                                                                            principal, column)


def test_a_collect_stores_the_principals_and_what_is_not_measured(
        exported: PrometheusServer, confluent: Fleet, tmp_path: Path) -> None:
    """`collect_cluster` end to end: the stored snapshot keeps each service account's bytes
    (cluster-wide) and says which figures Confluent Cloud cannot give, and why."""
    cluster = confluent.clusters["cluster"].iloc[1]
    at = confluent.end - timedelta(minutes=10)
    config = ClusterSettings(
        name=cluster, catalog="confluent-cloud", window_seconds=3600, lookback_seconds=600,
        hourly_days=1, prometheus=PrometheusSettings(
            url=exported.url, cluster_label="kafka_id", cluster_label_value=kafka_id(cluster)))
    settings = Settings(clusters=[config], schedule=ScheduleSettings(collect_every_minutes=1,
                                                                     history_days=1))
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    result = collect_cluster(config, store, settings, at=at)
    assert result.dialect == "confluent_cloud"
    stored = store.latest_snapshot(cluster).snapshot
    planted = set(confluent.principals.loc[confluent.principals["cluster"] == cluster,
                                           "principal_id"])
    assert {p.principal_id for p in stored.principals} == planted
    assert all(p.topic is None and p.bytes_in_per_second >= 0 for p in stored.principals)
    assert sum(p.bytes_in_per_second for p in stored.principals) > 0
    assert set(stored.labels["not_measured"].split(",")) >= {"broker_cpu", "broker_disk",
                                                             "broker_count"}
    assert "Confluent Cloud runs the brokers" in stored.labels["not_measured.broker_disk"]
