"""The bill endpoints: POST /v1/bills (admin), GET /v1/bills, GET /v1/reconciliation,
GET /v1/export/focus, and the `side` of GET /v1/costs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from costopt.config import ApiSettings, ApiToken
from costopt.store import sqlite_url
from tests.billing.conftest import SAMPLES, seeded, settings_for

READ, ADMIN = "reader-token", "admin-token"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = seeded(sqlite_url(tmp_path / "costopt.db"))
    settings = settings_for(store.url).model_copy(update={"api": ApiSettings(tokens=[
        ApiToken(name="r", sha256=hashlib.sha256(READ.encode()).hexdigest(), scopes=["read"]),
        ApiToken(name="a", sha256=hashlib.sha256(ADMIN.encode()).hexdigest(),
                 scopes=["admin"])])})
    with TestClient(create_app(settings, store),
                    headers={"Authorization": f"Bearer {READ}"}) as test_client:
        yield test_client


def _post(client: TestClient, body: bytes, token: str = ADMIN, **params: str
          ) -> httpx.Response:
    return client.post("/v1/bills", content=body, params=params, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "text/csv"})


def test_posting_a_bill_needs_admin_and_is_idempotent(client: TestClient) -> None:
    body = (SAMPLES / "confluent.csv").read_bytes()
    assert _post(client, body, READ).status_code == 403
    first = _post(client, body, name="costs-2026-11.csv").json()
    assert first["format"] == "confluent" and first["changed"] is True
    assert first["bills"][0]["outcome"] == "stored"
    assert first["bills"][0]["total"] == "94.03" and first["bills"][0]["currency"] == "USD"
    again = _post(client, body, name="costs-2026-11.csv").json()
    assert again["changed"] is False and again["bills"][0]["outcome"] == "unchanged"
    listed = client.get("/v1/bills").json()["items"]
    assert [(b["month"], b["provider"], b["lines"], b["total"], b["period"]) for b in listed] \
        == [("2026-11", "Confluent", 9, "94.03", "month")]
    assert client.get("/v1/bills", params={"month": "2026-10"}).json()["items"] == []


def test_a_malformed_bill_gets_422_naming_line_and_column(client: TestClient) -> None:
    text = (SAMPLES / "focus.csv").read_text().replace("35.25,35.25", "35,25,35.25", 1)
    response = _post(client, text.encode(), format="focus")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][:2] == ["body", "line 4"]
    assert "line 4" in error["msg"] and "Traceback" not in error["msg"]
    assert client.get("/v1/bills").json()["items"] == []
    wrong = _post(client, (SAMPLES / "cur.csv").read_bytes(), format="confluent")
    assert wrong.status_code == 422
    assert "column start_date: missing" in wrong.text


def test_reconciliation_shows_estimate_bill_error_and_owners(client: TestClient) -> None:
    assert _post(client, (SAMPLES / "focus.csv").read_bytes()).status_code == 200
    body = client.get("/v1/reconciliation", params={"month": "2026-11"}).json()
    assert body["month"] == "2026-11" and body["currency"] == "USD" and body["period"] == "month"
    clusters = {c["cluster"]: c for c in body["clusters"]}
    orders = clusters["orders-prod"]
    assert orders["basis"] == "billed" and orders["bill"] == "617.45"
    assert orders["unattributed"] == "2.30"
    estimate = Decimal(orders["estimate"])
    assert orders["error_pct"] == pytest.approx(
        float((Decimal("617.45") - estimate) / estimate * 100), abs=0.01)
    assert {c["target"] for c in orders["components"]} >= {"compute", "storage_local",
                                                            "network", "other"}
    assert clusters["events-cc"]["basis"] == "estimated" and clusters["events-cc"]["bill"] is None
    total = sum(Decimal(o["monthly_cost"]) for o in body["owners"])
    assert abs(total - Decimal(body["total"])) <= Decimal("0.01") * len(body["owners"])
    assert client.get("/v1/reconciliation").json()["month"] == "2026-11"  # the billed month
    bad = client.get("/v1/reconciliation", params={"month": "November"})
    assert bad.status_code == 422 and "month" in bad.text
    for month in ("0000-01", "9999-12"):  # no year 0, no month past 9999
        for path in ("/v1/reconciliation", "/v1/export/focus"):
            bad = client.get(path, params={"month": month})
            assert bad.status_code == 422 and "0001-01 and 9998-12" in bad.text, path


def test_focus_export_is_csv_of_the_month(client: TestClient) -> None:
    response = client.get("/v1/export/focus", params={"month": "2026-11"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-focus-version"] == "1.3"
    header = response.text.splitlines()[0].split(",")
    assert header[0] == "BilledCost" and "x_Basis" in header and "AllocatedResourceId" in header
    assert "ServiceProviderName" in header and "ProviderName" in header
    older = client.get("/v1/export/focus", params={"month": "2026-11", "focus_version": "1.4"})
    assert older.headers["x-focus-version"] == "1.4"
    assert "ProviderName" not in older.text.splitlines()[0].split(",")
    bad = client.get("/v1/export/focus", params={"month": "2026-11", "focus_version": "9"})
    assert bad.status_code == 422 and "focus_version" in bad.text
    assert client.get("/v1/export/focus").status_code == 422  # month is required


def test_costs_by_side_add_up_and_say_how_much_was_measured(client: TestClient) -> None:
    def items(side: str, group_by: str = "owner") -> list[dict]:
        return list(client.get("/v1/costs", params={"group_by": group_by, "side": side,
                                                    "limit": 1000}).json()["items"])

    both, producer, consumer = items("both"), items("producer"), items("consumer")
    assert {i["side"] for i in both} == {"both"}
    shared = sum(Decimal(i["monthly_cost"]) for i in both
                 if i["owner"] in ("__idle__", "__unallocated__"))
    total = sum(Decimal(i["monthly_cost"]) for i in both)
    split = sum(Decimal(i["monthly_cost"]) for i in producer + consumer)
    assert abs(total - shared - split) <= Decimal("0.01") * (len(both) + len(producer)
                                                            + len(consumer))
    # The sample clusters' topics have readers but no known consumer group: unmeasured.
    assert consumer and all(i["measured_share"] == 0 for i in consumer)
    assert all(i["measured_share"] == 1 for i in producer)
    clusters = client.get("/v1/clusters").json()["items"]
    by_cluster = {i["cluster"]: i["monthly_cost"] for i in items("both", "cluster")}
    assert by_cluster == {c["name"]: c["monthly_cost"] for c in clusters}
    assert client.get("/v1/costs", params={"side": "readers"}).status_code == 422
