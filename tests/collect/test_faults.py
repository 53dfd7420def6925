"""Faults in what Prometheus serves, on the real Prometheus holding the simulated `tiny` fleet:
series with gaps, counter resets and duplicate samples; an exporter that disappeared; a
Prometheus too slow to answer. Each failure is recorded and visible in the API, stores no
snapshot, and the next run recovers.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costopt.config import ClusterSettings, PrometheusSettings, ScheduleSettings, Settings
from costopt.simulate.fleet import Fleet, generate_fleet
from costopt.simulate.openmetrics import write_openmetrics
from costopt.sources.collect import collect_cluster
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, PrometheusData, collect_prometheus
from costopt.sources.source_errors import SourceError, SourceUnavailable
from costopt.store import Store, sqlite_url
from tests.collect.api_view import api_view
from tests.collect.conftest import BACKFILL_DAYS, STEP_SECONDS
from tests.stack.http_gateway import Answer, LoopbackGateway, Request
from tests.stack.prometheus_server import PrometheusServer

SAMPLE = re.compile(r'^(?P<name>[a-z_]+)\{(?P<labels>.*)\} (?P<value>\S+) (?P<ts>\d+)$')
RESET_HOURS_BEFORE_END = 6
GAP_HOURS_BEFORE_END = (30, 27)  # samples missing from 30 h to 27 h before the end


def _mutate(text: str, reset: str, gap: str, duplicated: str, end: datetime) -> str:
    """The `tiny` fleet's JMX history with three faults a real exporter produces:
    - `reset`: its counters restart from 0 (a broker restart) 6 h before the end;
    - `gap`: none of its samples for 3 h (a scrape outage);
    - `duplicated`: every sample sent twice with the same timestamp (a retried push)."""
    end_seconds = int(end.timestamp())
    reset_at = end_seconds - RESET_HOURS_BEFORE_END * 3600
    gap_from, gap_to = (end_seconds - hours * 3600 for hours in GAP_HOURS_BEFORE_END)
    base: dict[str, float] = {}
    out = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match is None:
            out.append(line)
            continue
        topic = re.search(r'topic="([^"]*)"', match["labels"])
        name = topic.group(1) if topic else None
        stamp = int(match["ts"])
        if name == gap and gap_from <= stamp < gap_to:
            continue
        if name == reset and match["name"].endswith("_total"):
            key = f"{match['name']}{{{match['labels']}}}"
            if stamp < reset_at:
                base[key] = float(match["value"])
            else:
                line = f"{key} {float(match['value']) - base[key]:.15g} {stamp}"
        out.append(line)
        if name == duplicated:
            out.append(line)
    return "\n".join(out) + "\n"


def _write(fleet: Fleet, label: str, **options: object) -> str:
    text = io.StringIO()
    write_openmetrics(fleet, text, "jmx", cluster_label=label, **options)  # type: ignore[arg-type]
    return text.getvalue()


def _collect(server_url: str, fleet: Fleet, label: str) -> PrometheusData:
    settings = PrometheusSettings(url=server_url, dialect="jmx", cluster_label=label)
    window = CollectWindow(at=fleet.end - timedelta(minutes=15), window_seconds=3_600,
                           lookback_seconds=3_600, history_days=7, hourly_days=2)
    return collect_prometheus(PrometheusClient(settings, _cluster(fleet)), window, "jmx")


def _cluster(fleet: Fleet) -> str:
    return str(fleet.clusters["cluster"].iloc[0])


def _busiest(fleet: Fleet, count: int) -> list[str]:
    topics = fleet.topics[fleet.topics["cluster"] == _cluster(fleet)]
    return list(topics.sort_values("base_bytes_in_per_second", ascending=False)["topic"][:count])


@pytest.fixture(scope="module")
def faulty(fleet_prometheus: PrometheusServer, tiny_fleet: Fleet
           ) -> tuple[PrometheusData, PrometheusData, list[str], datetime]:
    """(clean, faulty, [reset, gap, duplicated], end): the same history, written once clean (by
    the session fixture, label `cluster_jmx`) and once with faults (label `cluster_faulty`)."""
    topics = _busiest(tiny_fleet, 3)
    text = _write(tiny_fleet, "cluster_faulty", days=BACKFILL_DAYS, step_seconds=STEP_SECONDS)
    fleet_prometheus.backfill(_mutate(text, *topics, end=tiny_fleet.end))
    return (_collect(fleet_prometheus.url, tiny_fleet, "cluster_jmx"),
            _collect(fleet_prometheus.url, tiny_fleet, "cluster_faulty"), topics,
            tiny_fleet.end)


def _points(data: PrometheusData, topic: str) -> pd.DataFrame:
    series = data.series
    return series[series["topic"] == topic].set_index(["resolution_seconds", "ts"]).sort_index()


def test_gaps_resets_and_duplicates_give_the_clean_figures(faulty: tuple) -> None:
    clean, broken, (reset, gap, duplicated), end = faulty
    # The instant figures (last hour) of every topic, faulty ones included, are the clean ones.
    pd.testing.assert_frame_equal(broken.topics, clean.topics, rtol=1e-9)
    values = broken.series[["bytes_in_per_second", "bytes_out_per_second",
                            "messages_in_per_second", "log_size_bytes"]].to_numpy(float)
    assert np.isfinite(values[~np.isnan(values)]).all() and (values[~np.isnan(values)] >= 0).all()
    # A counter reset is read through: increase() counts the restarted counter from 0.
    pd.testing.assert_frame_equal(_points(broken, reset), _points(clean, reset), rtol=1e-6)
    # Duplicated samples are stored once by Prometheus: nothing doubles.
    pd.testing.assert_frame_equal(_points(broken, duplicated), _points(clean, duplicated),
                                  rtol=1e-9)
    # A gap leaves no hourly point rather than a fake zero; hours clear of it are unchanged,
    # and the daily rate reads across the gap from the counters either side.
    gapped, whole = _points(broken, gap), _points(clean, gap)
    gap_from, gap_to = (pd.Timestamp(end) - pd.Timedelta(hours=h) for h in GAP_HOURS_BEFORE_END)
    hourly = whole.loc[3_600]  # a point stored at t covers (t, t + 1 h]
    inside = hourly.index[(hourly.index >= gap_from) & (hourly.index + pd.Timedelta(hours=1)
                                                        <= gap_to)]
    clear = hourly.index[(hourly.index + pd.Timedelta(hours=2) <= gap_from)
                         | (hourly.index >= gap_to + pd.Timedelta(hours=1))]
    # (The hour ending at the gap's end holds one sample; increase() needs two.)
    assert len(inside) == 3 and not gapped.index.isin([(3_600, t) for t in inside]).any()
    pd.testing.assert_frame_equal(gapped.loc[3_600].loc[clear], hourly.loc[clear], rtol=1e-9)
    np.testing.assert_allclose(gapped.loc[86_400, "bytes_in_per_second"],
                               whole.loc[86_400, "bytes_in_per_second"], rtol=1e-6)


def test_a_faulty_history_is_stored_whole(faulty: tuple, fleet_prometheus: PrometheusServer,
                                          tiny_fleet: Fleet, tmp_path: Path) -> None:
    """The store refuses NaN, so this shows the gaps are dropped, not written as zeros."""
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    prometheus = PrometheusSettings(url=fleet_prometheus.url, dialect="jmx",
                                    cluster_label="cluster_faulty")
    cluster, settings = _settings(_cluster(tiny_fleet), prometheus)
    result = collect_cluster(cluster, store, settings, at=tiny_fleet.end - timedelta(minutes=15))
    assert result.topics == len(faulty[1].topics)
    gap = faulty[2][1]
    stored = store.series(cluster.name, gap)
    hourly = stored[stored["resolution_seconds"] == 3_600].set_index("ts")
    gap_from = pd.Timestamp(faulty[3]) - pd.Timedelta(hours=GAP_HOURS_BEFORE_END[0])
    assert len(hourly) > 20 and (hourly["bytes_in_per_second"] > 0).all()
    assert not hourly.index.isin(pd.date_range(gap_from, periods=3, freq="h")).any()


def _settings(name: str, prometheus: PrometheusSettings) -> tuple[ClusterSettings, Settings]:
    cluster = ClusterSettings(name=name, prometheus=prometheus, instance_type="m5.2xlarge",
                              broker_count=3, window_seconds=3_600, lookback_seconds=3_600,
                              hourly_days=1)
    return cluster, Settings(clusters=[cluster], api={"auth_enabled": False},
                             schedule=ScheduleSettings(collect_every_minutes=15, history_days=2))


def _failed_visibly(cluster: ClusterSettings, settings: Settings, store: Store, at: datetime,
                    error: type[Exception], message: str) -> None:
    """The collect fails with `message`, stores nothing, and `/v1/jobs` and `/readyz` say so."""
    with pytest.raises(error, match=message):
        collect_cluster(cluster, store, settings, at=at)
    assert store.snapshot_count() == 0
    job, checks = api_view(settings, store)
    assert job["status"] == "failed" and re.search(message, job["error"])
    assert re.search(message, checks[f"last_collect:{cluster.name}"])


def test_an_exporter_that_disappeared_fails_the_collect_until_it_returns(
        fleet_prometheus: PrometheusServer, tiny_fleet: Fleet, tmp_path: Path) -> None:
    """The exporter of `cluster_vanished` stopped at the fleet's end: its history is there
    (so the dialect is still detected) but nothing is current."""
    fleet_prometheus.backfill(_write(tiny_fleet, "cluster_vanished", days=1,
                                     step_seconds=STEP_SECONDS))
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    prometheus = PrometheusSettings(url=fleet_prometheus.url, cluster_label="cluster_vanished")
    cluster, settings = _settings(_cluster(tiny_fleet), prometheus)
    at = tiny_fleet.end + timedelta(hours=2)
    _failed_visibly(cluster, settings, store, at, SourceError,
                    r"no kafka_server_brokertopicmetrics_bytesin_total samples for cluster .* "
                    r"exporter stopped reporting")
    # The exporter comes back: three more hours of samples.
    later = generate_fleet(tiny_fleet.spec, end=tiny_fleet.end + timedelta(hours=3))
    fleet_prometheus.backfill(_write(later, "cluster_vanished", days=0.1,
                                     step_seconds=STEP_SECONDS))
    collect_cluster(cluster, store, settings, at=at)
    assert store.snapshot_count() == 1
    job, checks = api_view(settings, store)
    assert job["status"] == "succeeded" and checks[f"last_collect:{cluster.name}"] == "succeeded"


class _DelayingProxy:
    """A fake: a proxy in front of the real Prometheus that holds each answer `delay_s`
    seconds, for a server too slow to answer within the timeout. A fake because a real
    Prometheus cannot be made slow on purpose without starving the whole test machine."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.delay_s = 0.0
        # Rewrites successful answers: a malformed answer, which a real server does not give.
        self.mangle: Callable[[bytes], bytes] | None = None
        self.stopping = threading.Event()
        self.gateway = LoopbackGateway(self._forward)
        self.url = self.gateway.url

    def _forward(self, request: Request) -> Answer | None:
        if self.stopping.wait(self.delay_s):
            return None
        upstream = urllib.request.Request(self.upstream + request.path, data=request.body,
                                          method=request.method)
        if request.body is not None:
            upstream.add_header("Content-Type", request.headers["Content-Type"])
        try:
            with urllib.request.urlopen(upstream, timeout=30) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except OSError:  # the upstream is down: answer as a reverse proxy does
            status, payload = 502, b'{"status":"error","error":"bad gateway"}'
        if status == 200 and self.mangle is not None:
            payload = self.mangle(payload)
        return Answer(status, payload)

    def __enter__(self) -> _DelayingProxy:
        self.gateway.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.gateway.stop()


@pytest.fixture
def slow_proxy(fleet_prometheus: PrometheusServer) -> Iterator[_DelayingProxy]:
    with _DelayingProxy(fleet_prometheus.url) as proxy:
        yield proxy


def _behind(proxy: _DelayingProxy, tiny_fleet: Fleet, tmp_path: Path, timeout_s: float
            ) -> tuple[ClusterSettings, Settings, Store, datetime]:
    """A cluster collected through the proxy, a new store, and a window with history."""
    prometheus = PrometheusSettings(url=proxy.url, dialect="jmx", cluster_label="cluster_jmx",
                                    timeout_seconds=timeout_s)
    cluster, settings = _settings(_cluster(tiny_fleet), prometheus)
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    return cluster, settings, store, tiny_fleet.end - timedelta(minutes=15)


def test_a_slow_prometheus_times_out_cleanly_and_the_next_run_recovers(
        slow_proxy: _DelayingProxy, tiny_fleet: Fleet, tmp_path: Path) -> None:
    cluster, settings, store, at = _behind(slow_proxy, tiny_fleet, tmp_path, timeout_s=1)
    slow_proxy.delay_s = 3.0
    _failed_visibly(cluster, settings, store, at, SourceUnavailable,
                    rf"Prometheus at {re.escape(slow_proxy.url)} timed out after 1 s "
                    r"\(3 tries\) \(cluster ")
    slow_proxy.delay_s = 0.0
    collect_cluster(cluster, store, settings, at=at)
    assert store.snapshot_count() == 1
    assert api_view(settings, store)[1][f"last_collect:{cluster.name}"] == "succeeded"


def test_prometheus_stopped_mid_collect_fails_cleanly_and_the_next_run_recovers(
        slow_proxy: _DelayingProxy, fleet_prometheus: PrometheusServer, tiny_fleet: Fleet,
        tmp_path: Path) -> None:
    """The real Prometheus is stopped while the collect's queries are in flight (held 1 s by
    the proxy, so the stop lands among them)."""
    cluster, settings, store, at = _behind(slow_proxy, tiny_fleet, tmp_path, timeout_s=10)
    slow_proxy.delay_s = 1.0
    failures: list[Exception] = []

    def collect() -> None:
        try:
            collect_cluster(cluster, store, settings, at=at)
        except SourceError as exc:
            failures.append(exc)

    running = threading.Thread(target=collect)
    running.start()
    time.sleep(0.5)
    fleet_prometheus.stop()
    try:
        running.join(60)
    finally:
        fleet_prometheus.start()
    assert len(failures) == 1 and str(failures[0]).startswith(f"Prometheus at {slow_proxy.url}")
    assert store.snapshot_count() == 0
    job, checks = api_view(settings, store)
    assert job["status"] == "failed" and checks[f"last_collect:{cluster.name}"].startswith(
        "failed: Prometheus at")
    slow_proxy.delay_s = 0.0
    collect_cluster(cluster, store, settings, at=at)
    assert store.snapshot_count() == 1


def test_a_malformed_answer_fails_the_collect_and_names_it(
        slow_proxy: _DelayingProxy, tiny_fleet: Fleet, tmp_path: Path) -> None:
    """Answers whose series lost the labels costopt tagged its folded queries with (the
    proxy strips them: a fake, no real server answers so): the collect fails naming the
    census, and nothing is stored."""
    cluster, settings, store, at = _behind(slow_proxy, tiny_fleet, tmp_path, timeout_s=10)

    def strip(payload: bytes) -> bytes:
        body = json.loads(payload)
        for item in body.get("data", {}).get("result", []):
            item["metric"].pop("costopt_part", None)
        return json.dumps(body).encode()

    slow_proxy.mangle = strip
    _failed_visibly(cluster, settings, store, at, SourceError,
                    "answered the census without its part labels")
    slow_proxy.mangle = None
    collect_cluster(cluster, store, settings, at=at)
    assert store.snapshot_count() == 1
