"""An incremental collect reuses the cluster's last census of its raw series (kept in the
collect's job run) while the presence metric's count is unchanged and the census is under an
hour old, and collects the same figures as with a full census; on a real Prometheus."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from costopt.config import ClusterSettings, PrometheusSettings, ScheduleSettings, Settings
from costopt.simulate.fleet import Fleet
from costopt.sources.collect import collect_cluster
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import (
    CollectWindow,
    PrometheusData,
    collect_prometheus,
)
from costopt.sources.prometheus.queries import presence_metric
from costopt.sources.prometheus.query_plan import Census
from costopt.store import Store, sqlite_url
from tests.stack.prometheus_server import PrometheusServer

PRESENCE = presence_metric("jmx")
OTHER_RAW = "kafka_log_log_size"  # a raw metric the jmx collect reads besides the presence one
COUNTS_OTHER = f"({OTHER_RAW}{{"  # its raw series selected (not a recorded metric's name)


def _prometheus(server: PrometheusServer) -> PrometheusSettings:
    return PrometheusSettings(url=server.url, dialect="jmx", cluster_label="cluster_jmx")


def _incremental(server: PrometheusServer, fleet: Fleet, census: Census | None,
                 at: datetime) -> PrometheusData:
    cluster = str(fleet.clusters["cluster"].iloc[0])
    window = CollectWindow(at=at, window_seconds=3_600, lookback_seconds=3_600,
                           history_days=2, hourly_days=1, since=at - timedelta(minutes=15))
    return collect_prometheus(PrometheusClient(_prometheus(server), cluster), window, "jmx",
                              census=census)


def test_the_census_is_kept_in_the_job_run_and_reused_by_the_next_collect(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet, tmp_path: Path) -> None:
    name = str(tiny_fleet.clusters["cluster"].iloc[0])
    cluster = ClusterSettings(name=name, prometheus=_prometheus(fleet_prometheus),
                              instance_type="m5.2xlarge", broker_count=3, window_seconds=3_600,
                              lookback_seconds=3_600, hourly_days=1)
    settings = Settings(clusters=[cluster], api={"auth_enabled": False},
                        schedule=ScheduleSettings(collect_every_minutes=15, history_days=2))
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    at = tiny_fleet.end - timedelta(minutes=30)
    collect_cluster(cluster, store, settings, at=at)
    first = Census.from_record(store.last_succeeded_detail("collect", name)["census"])
    assert first is not None and first.count(OTHER_RAW) > 0
    collect_cluster(cluster, store, settings, at=at + timedelta(minutes=15))
    second = Census.from_record(store.last_succeeded_detail("collect", name)["census"])
    assert second is not None
    # Counted once, at the first collect; the second reused the counts.
    assert second.counted_at == first.counted_at == at.timestamp()
    assert second.count(OTHER_RAW) == first.count(OTHER_RAW)


def test_a_reused_census_counts_only_the_presence_metric_and_collects_the_same_figures(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet) -> None:
    at = tiny_fleet.end - timedelta(minutes=15)
    full = _incremental(fleet_prometheus, tiny_fleet, None, at)
    assert full.census is not None and COUNTS_OTHER in full.queries[0]
    reused = _incremental(fleet_prometheus, tiny_fleet, full.census, at)
    assert reused.census is not None and reused.census.counted_at == at.timestamp()
    census_text = reused.queries[0]
    assert PRESENCE in census_text and COUNTS_OTHER not in census_text
    assert reused.census.series == full.census.series
    for frame in ("topics", "groups", "brokers", "series"):
        pd.testing.assert_frame_equal(getattr(reused, frame), getattr(full, frame))


def test_a_changed_presence_count_or_an_old_census_has_everything_counted_again(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet) -> None:
    at = tiny_fleet.end - timedelta(minutes=15)
    full = _incremental(fleet_prometheus, tiny_fleet, None, at)
    assert full.census is not None
    moved = replace(full.census, series={**full.census.series,
                                         PRESENCE: full.census.count(PRESENCE) + 1,
                                         OTHER_RAW: 1})
    again = _incremental(fleet_prometheus, tiny_fleet, moved, at)
    assert again.census is not None
    assert COUNTS_OTHER not in again.queries[0] and COUNTS_OTHER in again.queries[1]
    assert again.census.count(OTHER_RAW) == full.census.count(OTHER_RAW)
    old = replace(full.census, series={**full.census.series, OTHER_RAW: 1},
                  counted_at=at.timestamp() - 3_601)
    recounted = _incremental(fleet_prometheus, tiny_fleet, old, at)
    assert recounted.census is not None and COUNTS_OTHER in recounted.queries[0]
    assert recounted.census.count(OTHER_RAW) == full.census.count(OTHER_RAW)
    assert recounted.census.counted_at == at.timestamp()
