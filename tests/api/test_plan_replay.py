"""`POST /v1/whatif` with `{"plan": ...}`: the savings plan, or the plan less some steps,
projected in one call at `wix` size, equal to `GET /v1/plan` to the cent.

The app is the real one (`create_app`, its routes, validation and the store of decisions); its
analysis is the in-memory `wix` analysis the plan tests already build (loading 50,000 topics
into a store would add minutes and test nothing more here)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_analysis
from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.config import ApiSettings, Settings
from costopt.store import Store, sqlite_url
from tests.fleets import analyzed


@pytest.fixture(scope="module")
def wix() -> FleetAnalysis:
    return analyzed("wix")


@pytest.fixture(scope="module")
def client(wix: FleetAnalysis, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    store = Store.open(sqlite_url(Path(tmp_path_factory.mktemp("replay")) / "costopt.db"))
    app = create_app(Settings(api=ApiSettings(auth_enabled=False, warm_at_start=False,
                                              request_timeout_seconds=600)), store)

    async def analysis() -> FleetAnalysis:
        return wix

    app.dependency_overrides[get_analysis] = analysis
    with TestClient(app) as client:
        yield client
    store.close()


def _plan(client: TestClient) -> dict[str, Any]:
    first = client.get("/v1/plan", params={"limit": 5000}).json()
    steps, cursor = list(first["steps"]), first["next_cursor"]
    while cursor:
        page = client.get("/v1/plan", params={"limit": 5000, "cursor": cursor}).json()
        steps += page["steps"]
        cursor = page["next_cursor"]
    return {**first, "steps": steps}


def _saving(body: dict[str, Any]) -> Decimal:
    return -Decimal(body["delta"]["monthly_cost"])


def test_the_whole_plan_replays_in_one_whatif_equal_to_the_plan(client: TestClient) -> None:
    plan = _plan(client)
    assert plan["total_steps"] == len(plan["steps"]) > 100  # past the explicit-list limit
    assert plan["replay"]["path"] == "/v1/whatif" and plan["replay"]["body"] == {"plan": {}}
    started = time.perf_counter()
    response = client.post("/v1/whatif", json={"plan": {}, "horizon_days": 90})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    assert _saving(body) == Decimal(plan["savings"])
    assert body["plan"]["savings"] == plan["savings"]
    assert body["plan"] == {"steps": plan["total_steps"], "left_out": 0,
                            "savings": plan["savings"], "currency": "USD", "period": "month"}
    assert body["baseline"]["monthly_cost"] == plan["monthly_cost"]
    print(f"wix plan replay: {plan['total_steps']} steps, {plan['savings']} USD/month, "
          f"{elapsed:.2f} s")
    everything = [s["id"] for s in plan["steps"]]
    included = client.post("/v1/whatif", json={"plan": {"include": everything}}).json()
    assert _saving(included) == Decimal(plan["savings"])


def test_the_plan_less_three_steps_equals_the_plan_rebuilt_without_them(
        client: TestClient, wix: FleetAnalysis) -> None:
    plan = _plan(client)
    topic_steps = [s for s in plan["steps"] if s["kind"] != "broker_sizing"]
    left_out = [topic_steps[0], topic_steps[len(topic_steps) // 2], topic_steps[-1]]
    response = client.post("/v1/whatif", json={"plan": {"exclude": [s["id"] for s in left_out]}})
    assert response.status_code == 200, response.text
    body = response.json()
    # The plan rebuilt without them, the way a user gets it: dismiss the three.
    by_id = {r.id: r for r in wix.recommendations}
    dismissed = Decisions({s["id"]: {"status": "dismissed", "reason": "not now",
                                     "evidence_fingerprint": by_id[s["id"]].evidence_fingerprint}
                           for s in left_out})
    rebuilt = wix.plan(dismissed)
    assert _saving(body) == rebuilt.total_savings.rounded()
    assert body["plan"]["savings"] == str(rebuilt.total_savings.rounded())
    assert body["plan"]["left_out"] >= 3
    assert _saving(body) < Decimal(plan["savings"])


def test_leaving_out_a_resize_leaves_its_cluster_unresized(client: TestClient,
                                                           wix: FleetAnalysis) -> None:
    plan = _plan(client)
    resize = next(s for s in plan["steps"] if s["kind"] == "broker_sizing")
    body = client.post("/v1/whatif", json={"plan": {"exclude": [resize["id"]]}}).json()
    [capacity] = [c for c in body["capacity"] if c["cluster"] == resize["cluster"]]
    assert capacity["brokers"] == len(wix.models[resize["cluster"]].snapshot.brokers)
    assert Decimal(body["plan"]["savings"]) < Decimal(plan["savings"])


def test_unknown_steps_are_refused_by_name_and_explicit_lists_keep_their_limit(
        client: TestClient) -> None:
    plan = _plan(client)
    response = client.post("/v1/whatif", json={"plan": {"exclude": [
        plan["steps"][0]["id"], "not-a-step", "0000000000000000"]}})
    assert response.status_code == 422
    message = str(response.json()["detail"])
    assert "not-a-step" in message and "0000000000000000" in message
    assert plan["steps"][0]["id"] not in message
    too_many = [{"selector": {"topic": f"t{i}"}, "retention_ms": 86_400_000}
                for i in range(101)]
    assert client.post("/v1/whatif", json={"changes": too_many}).status_code == 422
    both = client.post("/v1/whatif", json={"changes": too_many[:1], "plan": {}})
    assert both.status_code == 422 and "exclude each other" in both.text
    assert client.post("/v1/whatif", json={"plan": {"exclude": [], "include": []}}
                       ).status_code == 422
    assert client.post("/v1/whatif", json={}).status_code == 422
