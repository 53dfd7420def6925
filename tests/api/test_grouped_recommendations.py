"""`GET /v1/recommendations?group_by=`: the groups first, each with its count and total, the
items following group by group; and `GET /v1/plan/export` of a served fleet."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from tests.api.conftest import Server


def test_groups_come_first_and_add_up(api_server: Server) -> None:
    with api_server.client() as client:
        plain = client.get("/v1/recommendations", params={"limit": 10_000}).json()
        body = client.get("/v1/recommendations",
                          params={"group_by": "cause", "limit": 10_000}).json()
        bad = client.get("/v1/recommendations", params={"group_by": "colour"})
    assert bad.status_code == 422
    assert "groups" not in plain or plain["groups"] is None
    groups = body["groups"]
    assert groups and sum(g["count"] for g in groups) == len(body["items"])
    assert [i["id"] for i in body["items"]] == [i for g in groups for i in g["items"]]
    savings = {i["id"]: Decimal(i["monthly_savings"]) for i in body["items"]}
    for group in groups:
        assert Decimal(group["total_monthly_savings"]) == sum(
            (savings[i] for i in group["items"]), Decimal(0))
    assert sum(body["severities"].values()) == sum(1 for i in body["items"] if i["severity"])


def test_the_plan_exports_as_a_zip_of_change_sets(api_server: Server) -> None:
    with api_server.client() as client:
        response = client.get("/v1/plan/export", params={"format": "kafka-configs"})
        bad = client.get("/v1/plan/export", params={"format": "ansible"})
    assert bad.status_code == 422
    assert response.status_code == 200
    if response.headers["content-type"] == "application/zip":
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    else:
        names = [response.headers["content-disposition"].split('"')[1]]
    assert any(name.endswith(".sh") for name in names)
