"""Every endpoint of a real server over HTTP: shapes, filters, pagination and auth."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN, READ_TOKEN, Server, wait_for_job
from tests.fleets import fleet


@pytest.fixture()
def client(api_server: Server) -> httpx.Client:
    return api_server.client()


@pytest.fixture()
def admin(api_server: Server) -> httpx.Client:
    return api_server.client(ADMIN_TOKEN)


def test_clusters_and_one_cluster(client: httpx.Client) -> None:
    body = client.get("/v1/clusters").json()
    assert set(body) == {"items", "next_cursor"}
    [cluster] = body["items"]
    assert cluster["currency"] == "USD" and cluster["period"] == "month"
    detail = client.get(f"/v1/clusters/{cluster['name']}").json()
    assert len(detail["broker_list"]) == detail["brokers"] > 0
    assert {r["resource"] for r in detail["runway"]} == {"disk", "partitions"}
    assert sum(Decimal(v) for v in detail["costs_by_component"].values()) == Decimal(
        cluster["monthly_cost"])


def test_topics_cursor_walks_every_topic_once_in_order(client: httpx.Client) -> None:
    seen, cursor, costs = [], None, []
    while True:
        params = {"limit": 7, "sort": "-monthly_cost"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/topics", params=params).json()
        seen += [(t["cluster"], t["topic"]) for t in page["items"]]
        costs += [Decimal(t["monthly_cost"]) for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(fleet("tiny").topics)
    assert costs == sorted(costs, reverse=True)


def test_topic_filters_and_sorting(client: httpx.Client) -> None:
    everything = client.get("/v1/topics", params={"limit": 1000}).json()["items"]
    owner = everything[0]["owner"]
    mine = client.get("/v1/topics", params={"owner": owner, "limit": 1000}).json()["items"]
    assert mine and all(t["owner"] == owner for t in mine)
    dotted = client.get("/v1/topics", params={"pattern": r"\.v1$", "limit": 1000}).json()
    assert all(t["topic"].endswith(".v1") for t in dotted["items"])
    by_storage = client.get("/v1/topics", params={"sort": "storage_local",
                                                  "limit": 1000}).json()["items"]
    values = [Decimal(t["storage_local"]) for t in by_storage]
    assert values == sorted(values)


def test_topic_detail_and_costs_rollup(client: httpx.Client) -> None:
    top = client.get("/v1/topics", params={"limit": 1}).json()["items"][0]
    detail = client.get(f"/v1/topics/{top['cluster']}/{top['topic']}").json()
    assert detail["cost"] == top
    assert detail["config"]["partitions"] >= 1 and detail["series"]["days"] >= 7
    points = detail["forecast"]["points"]
    assert len(points) == 90 and all(p["lower"] <= p["value"] <= p["upper"] for p in points)
    for group_by in ("cluster", "owner", "topic"):
        items = client.get("/v1/costs", params={"group_by": group_by,
                                                "limit": 100_000}).json()["items"]
        total = sum(Decimal(i["monthly_cost"]) for i in items)
        assert abs(total - Decimal(client.get("/v1/clusters").json()["items"][0][
            "monthly_cost"])) <= Decimal("0.01") * len(items)
        assert all(group_by in i and i["currency"] == "USD" for i in items)


def test_recommendation_filters(client: httpx.Client) -> None:
    items = client.get("/v1/recommendations").json()["items"]
    assert items
    kind = items[0]["kind"]
    assert all(r["kind"] == kind for r in client.get(
        "/v1/recommendations", params={"kind": kind}).json()["items"])
    rich = client.get("/v1/recommendations", params={"min_savings": "50"}).json()["items"]
    assert all(Decimal(r["monthly_savings"]) >= 50 for r in rich)


def test_dismissed_stays_hidden_and_accepted_is_kept(admin: httpx.Client,
                                                     client: httpx.Client) -> None:
    items = client.get("/v1/recommendations").json()["items"]
    first, second = items[0], items[1]
    response = admin.post(f"/v1/recommendations/{first['id']}/dismiss",
                          json={"reason": "owner keeps data for audits"})
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    ids = {r["id"] for r in client.get("/v1/recommendations").json()["items"]}
    assert first["id"] not in ids
    dismissed = client.get("/v1/recommendations", params={"status": "dismissed"}).json()
    assert [r["status_reason"] for r in dismissed["items"]] == ["owner keeps data for audits"]
    assert admin.post(f"/v1/recommendations/{second['id']}/accept",
                      json={"reason": "applied"}).json()["status"] == "accepted"
    assert second["id"] in {r["id"] for r in client.get("/v1/recommendations").json()["items"]}
    assert admin.post(f"/v1/recommendations/{second['id']}/snooze",
                      json={"reason": "later"}).status_code == 422  # needs `until`
    assert admin.post("/v1/recommendations/ffffffffffffffff/accept",
                      json={"reason": "x"}).status_code == 404


def test_whatif_no_change_is_baseline_and_a_change_saves(client: httpx.Client) -> None:
    top = client.get("/v1/recommendations", params={"kind": "retention"}).json()["items"][0]
    body = client.post("/v1/whatif", json={"changes": top["whatif"],
                                           "horizon_days": 30}).json()
    saved = Decimal(body["baseline"]["monthly_cost"]) - Decimal(body["projected"]["monthly_cost"])
    assert abs(saved - Decimal(top["monthly_savings"])) <= Decimal("0.01")
    assert [t["topic"] for t in body["topics"]] == [top["target"]]
    assert body["delta"]["currency"] == "USD"
    same = client.post("/v1/whatif", json={"changes": [], "horizon_days": 30}).json()
    assert same["projected"]["monthly_cost"] == same["baseline"]["monthly_cost"]


def test_forecasts_metrics_and_health(client: httpx.Client, api_server: Server) -> None:
    name = client.get("/v1/clusters").json()["items"][0]["name"]
    forecast = client.get(f"/v1/forecasts/{name}").json()
    disk = next(f for f in forecast["forecasts"] if f["metric"] == "disk_used_bytes")
    assert len(disk["forecast"]) == 90
    assert all(p["lower"] <= p["value"] <= p["upper"] for p in disk["forecast"])
    metrics = httpx.get(f"{api_server.url}/metrics").text  # configured open
    assert "costopt_cluster_monthly_cost{" in metrics
    assert "costopt_topic_monthly_cost{" in metrics and "costopt_runway_days" in metrics
    assert READ_TOKEN not in metrics and ADMIN_TOKEN not in metrics
    assert httpx.get(f"{api_server.url}/readyz").json()["checks"]["store"] == "ok"


def test_admin_jobs_analyze_and_report(admin: httpx.Client, client: httpx.Client) -> None:
    job = admin.post("/v1/jobs/analyze")
    assert job.status_code == 202
    assert wait_for_job(admin, job.json()["id"])["status"] == "succeeded"
    report = wait_for_job(admin, admin.post("/v1/jobs/report").json()["id"])
    assert report["status"] == "succeeded", report["error"]
    listed = client.get("/v1/reports").json()["items"]
    assert listed[0]["id"] == report["detail"]["report_id"]
    html = client.get(f"/v1/reports/{listed[0]['id']}")
    assert html.headers["content-type"].startswith("text/html")
    assert "costopt weekly report" in html.text
    anomalies = wait_for_job(admin, admin.post("/v1/jobs/anomalies").json()["id"])
    assert anomalies["status"] == "succeeded", anomalies["error"]
    assert anomalies["detail"]["anomalies"] == len(client.get("/v1/anomalies?limit=1000")
                                                   .json()["items"])
    jobs = admin.get("/v1/jobs").json()["items"]
    assert {j["kind"] for j in jobs} >= {"analyze", "report", "anomalies"}


@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/clusters"), ("GET", "/v1/topics"), ("GET", "/v1/costs"),
    ("GET", "/v1/recommendations"), ("POST", "/v1/whatif"), ("GET", "/v1/reports"),
])
def test_reading_needs_a_valid_token(api_server: Server, method: str, path: str) -> None:
    with api_server.client(token=None) as anonymous:
        assert anonymous.request(method, path, json={}).status_code == 401
    with api_server.client(token="wrong") as wrong:
        assert wrong.request(method, path, json={}).status_code == 401


def test_admin_endpoints_need_the_admin_scope(api_server: Server) -> None:
    with api_server.client(READ_TOKEN) as reader:
        assert reader.post("/v1/jobs/analyze").status_code == 403
        assert reader.get("/v1/jobs").status_code == 403
        rec = reader.get("/v1/recommendations").json()["items"][0]
        assert reader.post(f"/v1/recommendations/{rec['id']}/accept",
                           json={"reason": "x"}).status_code == 403


@pytest.mark.parametrize("method,path,body,status,fragment", [
    ("GET", "/v1/clusters/nope", None, 404, "unknown cluster 'nope'"),
    ("GET", "/v1/topics/nope/x", None, 404, "unknown cluster"),
    ("GET", "/v1/reports/nope", None, 404, "unknown report"),
    ("GET", "/v1/forecasts/nope", None, 404, "unknown cluster"),
    ("GET", "/v1/costs?group_by=team", None, 422, "group_by"),
    ("GET", "/v1/topics?sort=-price", None, 422, "sort"),
    ("GET", "/v1/topics?cursor=garbage", None, 422, "cursor"),
    ("GET", "/v1/topics?pattern=(unclosed", None, 422, "pattern"),
    ("GET", "/v1/topics?limit=0", None, 422, "limit"),
    ("POST", "/v1/whatif", {"changes": [{"selector": {}, "retention_ms": 86400000}]}, 422,
     "selector"),
    ("POST", "/v1/whatif", {"changes": [{"selector": {"topic": "a"}, "compression": "brotli"}]},
     422, "compression"),
    ("POST", "/v1/whatif", {"changes": [{"selector": {"topic": "a"}, "partitions": 0}]}, 422,
     "partitions"),
    ("POST", "/v1/whatif", {"changes": [{"selector": {"cluster": "nope"}, "partitions": 3}]},
     404, "unknown cluster"),
    ("POST", "/v1/whatif", {"changes": [{"selector": {"all": True}, "catalog": "/etc/passwd"}]},
     422, "not a built-in catalog"),
    ("POST", "/v1/whatif", {"changes": [], "horizon_days": 0}, 422, "horizon_days"),
])
def test_bad_requests_get_a_clear_4xx(client: httpx.Client, method: str, path: str,
                                     body: dict | None, status: int, fragment: str) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert "Traceback" not in response.text


def test_oversized_bodies_are_refused(client: httpx.Client) -> None:
    huge = {"changes": [], "padding": "x" * 2_000_000}
    assert client.post("/v1/whatif", json=huge).status_code == 413
