"""The `wix` fleet's OpenMetrics output backfills into a real Prometheus (six hours of it, one
series per topic and metric, hourly; `make bench` backfills all 30 days)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from costopt.simulate.openmetrics import escape_label_value, write_openmetrics_file
from tests.fleets import fleet
from tests.stack.prometheus_server import PrometheusServer


def test_wix_fleet_backfills_and_every_topic_is_queryable(empty_prometheus: PrometheusServer,
                                                          tmp_path: Path) -> None:
    wix = fleet("wix")
    text = tmp_path / "wix.om"
    samples = write_openmetrics_file(wix, text, "jmx", days=0.25, step_seconds=3600,
                                     partition_level=False)
    assert samples > 50_000 * 6 * 4
    assert text.read_text()[-6:] == "# EOF\n"
    empty_prometheus.backfill(text)
    at = (wix.end - timedelta(hours=2)).timestamp()
    topics = len(wix.topics)  # (cluster, topic) pairs: every cluster has __consumer_offsets
    for query, expected in (
            ("count(count by (cluster, topic) (kafka_server_brokertopicmetrics_bytesin_total))",
             topics),
            ("count(count by (cluster, topic) (kafka_log_log_size))", topics),
            ("count(count by (cluster) (kafka_log_log_size))", 12)):
        body = httpx.get(f"{empty_prometheus.url}/api/v1/query",
                         params={"query": query, "time": at}, timeout=60).json()
        assert int(float(body["data"]["result"][0]["value"][1])) == expected, query


def test_label_values_are_escaped_in_openmetrics() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
