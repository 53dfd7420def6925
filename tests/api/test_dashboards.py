"""The shipped Grafana dashboards: structure, every query run against the real Prometheus of
the test stack (scraping both the Kafka broker and a real `costopt serve`), and report links
that land on panels that exist."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from reports.grafana_links import DASHBOARDS, PANELS
from reports.weekly import report_data
from tests.api.conftest import Server
from tests.fleets import analyzed
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
GRAFANA = Path(__file__).resolve().parents[2] / "grafana"
VARIABLES = {"$cluster": ".*", "$owner": ".*", "$topic": ".*", "$__rate_interval": "1m"}


def dashboards() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in GRAFANA.glob("*.json")}


def expressions(dashboard: dict) -> list[tuple[int, str]]:
    """costopt's own series. Panels on costopt's recording rules (`cluster_topic:...`, the same
    names for every exporter) are checked per dialect in tests/test_dashboards_by_dialect.py:
    this stack's Prometheus loads no rules."""
    return [(panel["id"], target["expr"]) for panel in dashboard["panels"]
            for target in panel["targets"] if "cluster_topic:" not in target["expr"]]


def test_dashboards_are_provisioning_ready() -> None:
    found = dashboards()
    assert {d["uid"] for d in found.values()} == {uid for uid, _ in DASHBOARDS.values()}
    for key, (uid, _) in DASHBOARDS.items():
        dashboard = next(d for d in found.values() if d["uid"] == uid)
        assert {p["id"] for p in dashboard["panels"]} == set(PANELS[key].values())
        names = {v["name"] for v in dashboard["templating"]["list"]}
        assert {"datasource", "cluster"} <= names
        for panel in dashboard["panels"]:
            assert panel["targets"] and panel["gridPos"]["w"] > 0
    provider = (GRAFANA / "provisioning" / "dashboards" / "costopt.yaml").read_text()
    assert "type: file" in provider
    assert {v["name"] for d in found.values() for v in d["templating"]["list"]} >= {
        "cluster", "owner", "topic"}


@pytest.fixture(scope="module")
def scraped(stack: Stack, api_server: Server) -> Stack:
    """The stack's Prometheus scraping costopt's /metrics as well as Kafka."""
    stack.prometheus.add_scrape_job("costopt", api_server.url.removeprefix("http://"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        result = httpx.get(f"{stack.prometheus.url}/api/v1/query",
                           params={"query": "costopt_cluster_monthly_cost"}).json()
        if result["data"]["result"]:
            break
        time.sleep(1)
    else:
        raise AssertionError("Prometheus never scraped costopt's /metrics")
    # Kafka's per-topic meters exist once a topic has had traffic (the smoke and collect
    # tests produce some); wait for two scrapes of them so rate() has data.
    time.sleep(11)
    return stack


@pytest.mark.parametrize("name", ["costopt-overview", "costopt-topic", "costopt-capacity"])
def test_every_panel_query_parses_and_returns_data(scraped: Stack, name: str) -> None:
    for panel_id, expression in expressions(dashboards()[name]):
        query = expression
        for variable, value in VARIABLES.items():
            query = query.replace(variable, value)
        response = httpx.get(f"{scraped.prometheus.url}/api/v1/query", params={"query": query},
                             timeout=30)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (panel_id, body)
        assert body["data"]["result"], f"{name} panel {panel_id} returned no data: {query}"


def test_report_links_point_at_panels_that_exist() -> None:
    data = report_data(analyzed("small"), grafana_url="https://grafana.example.com")
    by_uid = {d["uid"]: {p["id"] for p in d["panels"]} for d in dashboards().values()}
    links = [data["links"][k] for k in ("overview", "by_owner", "components")]
    links += [t["grafana"] for t in data["top_topics"]]
    links += [r["grafana"] for r in data["top_recommendations"]]
    links += [f["grafana"] for f in data["forecasts"]]
    assert len(links) > 30
    for link in links:
        parsed = urlparse(link)
        uid = parsed.path.split("/")[2]
        query = parse_qs(parsed.query)
        assert int(query["viewPanel"][0]) in by_uid[uid], link
        assert int(query["from"][0]) < int(query["to"][0])
        assert "var-cluster" in query or "cluster" not in link
    topic_link = data["top_topics"][0]["grafana"]
    assert f"var-topic={data['top_topics'][0]['topic']}" in topic_link
    assert datetime.now(UTC).year >= 2026
