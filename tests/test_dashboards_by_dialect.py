"""The Grafana dashboards work whatever exporter the Kafka clusters have: every panel reads
either costopt's own /metrics series (the same for every dialect by construction; queried
against a real `costopt serve` in tests/api/test_dashboards.py) or costopt's dashboard
recording rules, whose series are named the same for every dialect. Those panels are queried
here against a real Prometheus holding a simulated fleet in each dialect (JMX exporter,
kafka_exporter, kminion, Confluent Cloud's Metrics API export), with the rules evaluated over
it by promtool as a user backfills them.

Why: the topic drill-down read JMX-exporter names, so it was empty for kafka_exporter and
kminion users, and its topic list stopped at the top 200 topics by cost.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import DIALECTS, write_openmetrics
from costopt.sources.prometheus.recording_rules import (
    DASHBOARD_FIGURES,
    dashboard_record,
    rules_yaml,
)
from tests.fleets import FIXED_END, fleet
from tests.stack.prometheus_server import PrometheusServer

GRAFANA = Path(__file__).resolve().parents[1] / "grafana"
STEP_SECONDS = 60  # a 5-minute rate needs several samples in its window
HISTORY_DAYS = 2 / 24
AT = FIXED_END - timedelta(minutes=10)  # an instant the recorded series cover
# What each exporter can give: kafka_exporter has no bytes and no log size, kminion no bytes;
# Confluent Cloud's Metrics API export all four.
RECORDED = {"jmx": {"messages_in", "bytes_in", "bytes_out", "log_size"},
            "kafka_exporter": {"messages_in"}, "kminion": {"messages_in", "log_size"},
            "confluent_cloud": {"messages_in", "bytes_in", "bytes_out", "log_size"}}


def dashboards() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in GRAFANA.glob("*.json")}


def targets() -> list[tuple[str, int, str]]:
    return [(name, panel["id"], target["expr"]) for name, d in dashboards().items()
            for panel in d["panels"] for target in panel["targets"]]


@pytest.fixture(scope="module")
def tiny() -> Fleet:
    return fleet("tiny")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, tiny: Fleet
             ) -> Iterator[PrometheusServer]:
    """Each dialect's last two hours as cluster `<dialect>` (the fleet's one cluster renamed),
    and the dashboard rules evaluated over them (`promtool tsdb create-blocks-from rules`)."""
    (name,) = tiny.clusters["cluster"]
    workdir = Path(tmp_path_factory.mktemp("dashboards-by-dialect"))
    server = PrometheusServer(workdir)
    for dialect in DIALECTS:
        text = io.StringIO()
        write_openmetrics(tiny, text, dialect, days=HISTORY_DAYS, step_seconds=STEP_SECONDS)
        server.backfill(text.getvalue().replace(f'cluster="{name}"', f'cluster="{dialect}"'))
    server.start()
    rules = workdir / "costopt-rules.yml"
    rules.write_text(rules_yaml())
    server.backfill_rules(rules, FIXED_END - timedelta(hours=1), FIXED_END)
    yield server
    server.stop()


def query(server: PrometheusServer, expr: str) -> list[dict]:
    response = httpx.get(f"{server.url}/api/v1/query",
                         params={"query": expr, "time": AT.timestamp()}, timeout=30)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    return list(body["data"]["result"])


def test_every_panel_reads_costopt_series_never_an_exporters_own() -> None:
    recorded_names = {dashboard_record(f) for f in DASHBOARD_FIGURES}
    for name, panel, expr in targets():
        metrics = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{)", expr))
        assert metrics, (name, panel, expr)
        for metric in metrics:
            assert metric.startswith("costopt_") or metric in recorded_names, \
                f"{name} panel {panel} reads {metric}, which not every exporter has"


def test_the_topic_variable_reaches_every_topic() -> None:
    topic = next(v for v in dashboards()["costopt-topic"]["templating"]["list"]
                 if v["name"] == "topic")
    # A regex typed in, not a list drawn from costopt's top-N per-topic cost series.
    assert topic["type"] == "textbox" and topic["query"] == ".*"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_recorded_panels_return_each_dialects_figures(recorded: PrometheusServer, tiny: Fleet,
                                                      dialect: str) -> None:
    topics = set(tiny.topics["topic"])
    for name, panel, expr in targets():
        figure = next((f for f in DASHBOARD_FIGURES if dashboard_record(f) in expr), None)
        if figure is None:
            continue  # costopt's own series
        result = query(recorded, expr.replace("$cluster", dialect)
                       .replace("$topic", ".*"))
        if figure not in RECORDED[dialect]:
            assert not result, (dialect, name, panel)
            continue
        # Every topic of the cluster, not a top N, each under its `topic` label.
        assert {r["metric"]["topic"] for r in result} == topics, (dialect, name, panel)
    # One topic by the variable's regex, as the report's links set it.
    last = sorted(topics)[-1]
    messages = dashboard_record("messages_in")
    one = query(recorded, f'sum by (topic) ({messages}{{cluster=~"{dialect}", '
                          f'topic=~"{last}"}})')
    assert [r["metric"]["topic"] for r in one] == [last]


def test_the_dialects_agree_on_each_topics_figures(recorded: PrometheusServer,
                                                  tiny: Fleet) -> None:
    """The same simulated fleet seen through four exporters: the recorded figures match.
    Confluent Cloud's retained bytes count 3 replicas of every topic (its fixed RF), the JMX
    exporter's log sizes the topic's own RF: compared where the two are the same."""
    for figure, dialects in (("messages_in", ("kafka_exporter", "kminion", "confluent_cloud")),
                             ("bytes_in", ("confluent_cloud",)),
                             ("bytes_out", ("confluent_cloud",)),
                             ("log_size", ("kminion", "confluent_cloud"))):
        by_dialect = {}
        for dialect in ("jmx", *dialects):
            rows = query(recorded, f'{dashboard_record(figure)}{{cluster="{dialect}"}}')
            by_dialect[dialect] = {r["metric"]["topic"]: float(r["value"][1]) for r in rows}
        rf = dict(zip(tiny.topics["topic"], tiny.topics["replication_factor"], strict=True))
        for dialect in dialects:
            for topic, value in by_dialect["jmx"].items():
                if figure == "log_size" and dialect == "confluent_cloud" and rf[topic] != 3:
                    continue
                other = by_dialect[dialect][topic]
                assert other == pytest.approx(value, rel=0.05, abs=1.0), (figure, dialect, topic)
