"""`GET /v1/anomalies` and the anomaly gauges of `/metrics`, from a real `costopt serve` over a
store where the anomalies run has found the `small` fleet's planted changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from costopt.analyze.analysis import cached_analysis
from costopt.anomalies.service import refresh
from costopt.config import Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store
from tests.api.conftest import Server, start_server, write_config
from tests.fleets import fleet


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = Path(tmp_path_factory.mktemp("anomalies-api"))
    store_url = f"sqlite:///{directory / 'costopt.db'}"
    store = Store.open(store_url)
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=20, records_per_topic=60)
    settings = Settings(store_url=store_url)
    refresh(store, settings, cached_analysis(store, settings))
    running = start_server(write_config(directory / "costopt.yaml", store_url,
                                        open_metrics=True), directory / "serve.log")
    yield running
    running.process.stop()


def test_anomalies_page_through_open_and_resolved(server: Server) -> None:
    with server.client() as client:
        first = client.get("/v1/anomalies", params={"limit": 2}).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        second = client.get("/v1/anomalies", params={"limit": 2,
                                                     "cursor": first["next_cursor"]}).json()
        assert len(second["items"]) == 1 and second["next_cursor"] is None
        items = first["items"] + second["items"]
        assert len({a["id"] for a in items}) == 3
        assert [a["start"] for a in items] == sorted((a["start"] for a in items), reverse=True)
        assert {a["driver"]["kind"] for a in items} == {"codec", "config", "new_consumer_group"}
        assert all(a["state"] == "open" and a["currency"] == "USD" and a["period"] == "month"
                   for a in items)
        assert client.get("/v1/anomalies", params={"state": "resolved"}).json()["items"] == []
        assert len(client.get("/v1/anomalies", params={"state": "open"}).json()["items"]) == 3
        bad = client.get("/v1/anomalies", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422 and "cursor" in bad.text
        assert client.get("/v1/anomalies", params={"state": "closed"}).status_code == 422


def test_metrics_carry_open_counts_and_each_impact(server: Server) -> None:
    with server.client() as client:
        text = client.get("/metrics").text
        items = client.get("/v1/anomalies").json()["items"]
    families = {f.name: f for f in text_string_to_metric_families(text)}
    opened = {s.labels["scope"]: s.value for s in families["costopt_anomalies_open"].samples}
    assert opened == {"topic": 3, "owner": 0, "cluster": 0, "component": 0}
    impacts = {s.labels["anomaly_id"]: s for s in
               families["costopt_anomaly_impact_monthly"].samples}
    assert set(impacts) == {a["id"] for a in items}
    for anomaly in items:
        sample = impacts[anomaly["id"]]
        assert sample.labels["scope"] == "topic" and sample.labels["currency"] == "USD"
        assert sample.labels["item"] == f"{anomaly['cluster']}/{anomaly['item']}"
        assert anomaly["driver"]["figure"] in sample.labels["driver"]
        assert sample.value == pytest.approx(float(anomaly["impact_monthly"]), abs=0.01)
