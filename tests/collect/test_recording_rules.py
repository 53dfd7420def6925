"""costopt's recording rules: the shipped file is valid and does what its unit tests say
(`promtool check rules`, `promtool test rules`), and a collect from a real Prometheus that
records them reads the recorded per-topic series wherever they cover the window, the raw
exporter series only before the rules began. Recorded history is backfilled with
`promtool tsdb create-blocks-from rules`, as docs/collection.md tells users to."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costopt.config import PrometheusSettings
from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import write_openmetrics
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, PrometheusData, collect_prometheus
from costopt.sources.prometheus.recording_rules import rules_yaml
from tests.fleets import FIXED_END
from tests.stack.prometheus_server import PrometheusServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = DEPLOY / "costopt-rules.yml"
WINDOW = CollectWindow(at=FIXED_END, window_seconds=3600, lookback_seconds=600,
                       history_days=1, hourly_days=1)
RAW = ("kafka_server_brokertopicmetrics_bytesin_total{",
       "kafka_server_brokertopicmetrics_bytesout_total{",
       "kafka_server_brokertopicmetrics_messagesin_total{", "kafka_log_log_size{")


def test_the_shipped_rules_are_the_ones_costopt_reads() -> None:
    assert RULES.read_text() == rules_yaml()


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(["promtool", "test", "rules", "costopt-rules.test.yml"],
                            cwd=DEPLOY, capture_output=True, text=True, check=False)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory,
              real_history: Path) -> Iterator[PrometheusServer]:
    """Prometheus with costopt's rules loaded, holding the tiny fleet's last day raw; the
    recorded series are backfilled by each test."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("recording")), rule_files=[RULES],
                              query_log=True)
    server.copy_blocks_from(real_history)
    server.start()
    yield server
    server.stop()


def _collect(server: PrometheusServer, fleet: Fleet, rules: str) -> PrometheusData:
    settings = PrometheusSettings(url=server.url, dialect="jmx", recording_rules=rules)
    client = PrometheusClient(settings, fleet.clusters["cluster"].iloc[0])
    return collect_prometheus(client, WINDOW, "jmx")


def _reads_raw(query: str) -> bool:
    return any(name in query for name in RAW)


def _collect_log(server: PrometheusServer, fleet: Fleet, rules: str
                 ) -> tuple[PrometheusData, list[dict]]:
    """A collect and the queries it sent (the cluster's, not promtool's or the rules')."""
    mark = len(server.queries())
    data = _collect(server, fleet, rules)
    selector = f'cluster="{fleet.clusters["cluster"].iloc[0]}"'
    return data, [entry for entry in server.queries()[mark:]
                  if selector in entry["params"]["query"]]


def test_recorded_series_are_read_where_they_cover_the_window(recording: PrometheusServer,
                                                              tiny_fleet: Fleet) -> None:
    """First the rules recorded the last 12 hours only: the daily point (the whole day) and
    the hours before them come from raw series, the later hours and the current rates from
    recorded ones. Then the rules' history is backfilled: every history query reads recorded
    series only. Either way the figures are those the raw series give."""
    recording.backfill_rules(RULES, FIXED_END - timedelta(hours=12), FIXED_END)
    raw, raw_log = _collect_log(recording, tiny_fleet, "off")
    mixed, log = _collect_log(recording, tiny_fleet, "auto")
    assert "bytes_in" in mixed.recorded and "bytes_in@3600" in mixed.recorded
    assert "bytes_in@86400" not in mixed.recorded
    hourly_raw = [e for e in log if e["params"]["step"] == 3600 and _reads_raw(
        e["params"]["query"])]
    assert hourly_raw and all(pd.Timestamp(e["params"]["end"]) <= FIXED_END - timedelta(hours=11)
                              for e in hourly_raw)
    _assert_same(mixed, raw)

    recording.backfill_rules(RULES, FIXED_END - timedelta(days=1, hours=2),
                             FIXED_END - timedelta(hours=12))
    ruled, ruled_log = _collect_log(recording, tiny_fleet, "auto")
    assert {"bytes_in@86400", "log_size@86400", "bytes_in@3600",
            "log_size@3600", "bytes_in", "log_size", "partitions",
            "replication_factor", "broker_disk_used_bytes"} <= set(ruled.recorded)
    history = [e for e in ruled_log if e["params"]["step"]]
    assert history and not any(_reads_raw(e["params"]["query"]) for e in history)
    # Only the census and broker CPU read raw series, and only their last 10 minutes.
    current = [e["params"]["query"] for e in ruled_log if not e["params"]["step"]]
    assert len(current) == 2 and sum("kafka_log_log_size{" in q for q in current) == 1
    samples = [e["stats"]["samples"]["totalQueryableSamples"] for e in ruled_log]
    raw_samples = [e["stats"]["samples"]["totalQueryableSamples"] for e in raw_log]
    assert sum(samples) * 20 < sum(raw_samples)
    _assert_same(ruled, raw)


def _assert_same(got: PrometheusData, raw: PrometheusData) -> None:
    """Recorded series give the raw figures: exactly for partitions and RF, within a few
    percent for rates and sizes (the brokers' disks too). Recorded windows end where the
    rules were evaluated, not on the clock's hour (up to one evaluation interval, 5 minutes,
    after it: minute 4 or 5 in the runs seen), and the simulator's rates step on the hour,
    so a window shifted by minutes sees some of the next hour's rate."""
    topics = got.topics.loc[raw.topics.index]
    for column in ("partitions", "replication_factor"):
        assert (topics[column] == raw.topics[column]).all()
    brokers = got.brokers.set_index("instance").loc[raw.brokers["instance"]]
    assert len(brokers) == len(got.brokers) and raw.brokers["disk_used_bytes"].notna().all()
    np.testing.assert_allclose(brokers["disk_used_bytes"], raw.brokers["disk_used_bytes"],
                               rtol=0.01)
    busy = raw.topics["bytes_in_per_second"] > 100
    for column in ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"):
        np.testing.assert_allclose(topics.loc[busy, column], raw.topics.loc[busy, column],
                                   rtol=0.05)
    np.testing.assert_allclose(topics["log_size_bytes"], raw.topics["log_size_bytes"],
                               rtol=0.01)
    keys = ["topic", "ts", "resolution_seconds"]
    joined = got.series.merge(raw.series, on=keys, suffixes=("", "_raw"))
    assert len(joined) == len(raw.series) == len(got.series)
    live = joined["bytes_in_per_second_raw"] > 100
    # An hourly point: up to 5 minutes of 60 from the next hour, whose rate may be twice
    # as high: at most 5/60 = 8.3% off (8.33% seen on a clean-clone run).
    np.testing.assert_allclose(joined.loc[live, "bytes_in_per_second"],
                               joined.loc[live, "bytes_in_per_second_raw"], rtol=0.09)
    np.testing.assert_allclose(joined["log_size_bytes"], joined["log_size_bytes_raw"],
                               rtol=0.01)


@pytest.fixture(scope="module")
def confluent_recording(tmp_path_factory: pytest.TempPathFactory,
                        tiny_fleet: Fleet) -> Iterator[PrometheusServer]:
    """The tiny fleet's last day as Confluent Cloud's export serves it (a sample every 5
    minutes: the dialect's figures do not depend on the scrape interval), with costopt's rules
    evaluated over all of it."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("confluent-recording")),
                              rule_files=[RULES], query_log=True)
    text = io.StringIO()
    write_openmetrics(tiny_fleet, text, "confluent_cloud", days=1, step_seconds=300)
    server.backfill(text.getvalue())
    server.start()
    server.backfill_rules(RULES, FIXED_END - timedelta(days=1, hours=2), FIXED_END)
    yield server
    server.stop()


def test_confluent_recorded_series_give_the_raw_figures(confluent_recording: PrometheusServer,
                                                        tiny_fleet: Fleet) -> None:
    """With the Confluent rules recorded over the whole history, a collect reads every
    history point and the current rates and sizes from them, not from the export's raw
    per-minute series, and gets the figures the raw series give."""
    cluster = tiny_fleet.clusters["cluster"].iloc[0]

    def collect(rules: str) -> tuple[PrometheusData, list[dict]]:
        mark = len(confluent_recording.queries())
        settings = PrometheusSettings(url=confluent_recording.url, dialect="confluent_cloud",
                                      recording_rules=rules)
        data = collect_prometheus(PrometheusClient(settings, cluster), WINDOW,
                                  "confluent_cloud")
        return data, [e for e in confluent_recording.queries()[mark:]
                      if f'cluster="{cluster}"' in e["params"]["query"]]

    raw, _ = collect("off")
    ruled, log = collect("on")
    assert {"bytes_in@86400", "log_size@86400", "bytes_in@3600",
            "messages_in@3600", "bytes_in", "log_size"} <= set(ruled.recorded)
    history = [e["params"]["query"] for e in log if e["params"]["step"]]
    assert history and not any(f"{name}{{" in query for query in history for name in (
        "confluent_kafka_server_received_bytes", "confluent_kafka_server_sent_bytes",
        "confluent_kafka_server_received_records", "confluent_kafka_server_retained_bytes"))
    _assert_same(ruled, raw)
