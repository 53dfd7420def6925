"""`/v1/budgets` on a store holding the `tiny` simulated fleet, on SQLite and on a real
PostgreSQL: reads need `read`, writes `admin`; a bad budget gets 422 naming the field and
leaves the store as it was; `/metrics` carries each budget's gauges."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from costopt.config import ApiSettings, ApiToken, Settings
from costopt.records.budget_spec import ConfiguredBudget
from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from costopt.store.budgets import BudgetStore
from tests.fleets import fleet

READ, ADMIN = "reader-token", "admin-token"
CONFIGURED = ConfiguredBudget(name="fleet-total", scope="fleet", amount=Decimal("1"))


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    url = sqlite_url(tmp_path / "costopt.db") if request.param == "sqlite" \
        else request.getfixturevalue("postgres").new_database()
    store = Store.open(url)
    load_fleet(store, fleet("tiny"), sampled_topics_per_cluster=5, records_per_topic=20)
    settings = Settings(store_url=url, budgets=[CONFIGURED], api=ApiSettings(
        open_metrics=True, tokens=[
            ApiToken(name="r", sha256=hashlib.sha256(READ.encode()).hexdigest(),
                     scopes=["read"]),
            ApiToken(name="a", sha256=hashlib.sha256(ADMIN.encode()).hexdigest(),
                     scopes=["read", "admin"])]))
    with TestClient(create_app(settings, store),
                    headers={"Authorization": f"Bearer {READ}"}) as test_client:
        test_client.app_state_store = store  # type: ignore[attr-defined]
        yield test_client


def _put(client: TestClient, name: str, body: dict[str, object], token: str = ADMIN
         ) -> object:
    return client.put(f"/v1/budgets/{name}", json=body,
                      headers={"Authorization": f"Bearer {token}"})


def test_set_read_and_remove_a_budget(client: TestClient) -> None:
    store: Store = client.app_state_store  # type: ignore[attr-defined]
    owners = client.get("/v1/costs", params={"group_by": "owner"}).json()["items"]
    team = next(o for o in owners if not o["owner"].startswith("__"))
    body = {"scope": "owner", "target": team["owner"], "amount": "100000"}
    assert _put(client, "team", body, READ).status_code == 403  # type: ignore[attr-defined]
    response = _put(client, "team", body)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    made = response.json()  # type: ignore[attr-defined]
    assert (made["name"], made["source"], made["amount"], made["currency"], made["period"]) \
        == ("team", "api", "100000.00", "USD", "month")
    assert made["status"] == "on_track" and made["basis"] == "estimated"
    assert Decimal(made["month_to_date"]) > 0
    assert made["forecast"]["level"] == 0.8
    assert Decimal(made["forecast"]["lower"]) <= Decimal(made["forecast"]["month_end"]) \
        <= Decimal(made["forecast"]["upper"])
    listed = client.get("/v1/budgets").json()["items"]
    assert [(b["name"], b["source"]) for b in listed] == [("fleet-total", "config"),
                                                          ("team", "api")]
    assert listed[0]["status"] == "over"  # a fleet budget of 1 is spent on the first day
    assert [b.name for b in BudgetStore(store).budgets()] == ["team"]
    metrics = client.get("/metrics").text
    assert 'costopt_budget_status{budget="team",scope="owner",status="on_track"' in metrics
    assert 'costopt_budget_status{budget="fleet-total",scope="fleet",status="over"' in metrics
    assert "costopt_budget_month_end_forecast_upper" in metrics
    again = _put(client, "team", {**body, "amount": "1"}).json()  # type: ignore[attr-defined]
    assert again["status"] == "over"
    headers = {"Authorization": f"Bearer {ADMIN}"}
    assert client.delete("/v1/budgets/team", headers=headers).status_code == 204
    assert client.delete("/v1/budgets/team", headers=headers).status_code == 404
    assert client.get("/v1/budgets/team").status_code == 404
    assert client.delete("/v1/budgets/fleet-total", headers=headers).status_code == 422
    assert BudgetStore(store).budgets() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"scope": "owner", "target": "no-such-team", "amount": "10"}, "target"),
    ({"scope": "cluster", "target": "no-such-cluster", "amount": "10"}, "target"),
    ({"scope": "fleet", "amount": "-5"}, "amount"),
    ({"scope": "topic_pattern", "target": "(?=lookahead)", "amount": "10"}, "target"),
    ({"scope": "fleet", "amount": "10", "currency": "EUR"}, "currency"),
])
def test_a_bad_budget_gets_422_naming_the_field_and_stores_nothing(
        client: TestClient, body: dict[str, object], field: str) -> None:
    store: Store = client.app_state_store  # type: ignore[attr-defined]
    response = _put(client, "bad", body)
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    [error] = response.json()["detail"]  # type: ignore[attr-defined]
    assert field in error["loc"], error
    assert BudgetStore(store).budgets() == []
    assert client.get("/v1/budgets/bad").status_code == 404


def test_the_configuration_s_budgets_are_not_overwritten(client: TestClient) -> None:
    response = _put(client, "fleet-total", {"scope": "fleet", "amount": "5"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "name" in response.json()["detail"][0]["loc"]  # type: ignore[attr-defined]


def test_unit_costs_over_http_and_on_metrics(client: TestClient) -> None:
    """Not a budget, but the same store: GET /v1/costs?unit= and its gauge."""
    for group_by in ("cluster", "owner", "topic"):
        items = client.get("/v1/costs", params={"group_by": group_by,
                                                "unit": "gb_out"}).json()["items"]
        assert all(i["unit"] == "gb_out" and i["unit_cost_basis"] == "measured"
                   for i in items)
        priced = [i for i in items if i["unit_cost"] is not None]
        assert priced and all(Decimal(i["unit_cost"]) > 0 and i["unit_cost_reason"] is None
                              and i["units_per_month"] > 0 for i in priced)
        empty = [i for i in items if i["unit_cost"] is None]
        assert all(i["unit_cost_reason"] for i in empty)
    plain = client.get("/v1/costs").json()["items"][0]
    assert "unit_cost" not in plain
    assert client.get("/v1/costs", params={"unit": "per_byte"}).status_code == 422
    metrics = client.get("/metrics").text
    gauges = [line for line in metrics.splitlines()
              if line.startswith("costopt_topic_unit_cost{")]
    assert {unit for unit in ("million_messages", "gb_in", "gb_out")
            if any(f'unit="{unit}"' in line for line in gauges)} \
        == {"million_messages", "gb_in", "gb_out"}
