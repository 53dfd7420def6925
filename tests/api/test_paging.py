"""Every list endpoint pages: walking `next_cursor` with a small page gets every item exactly
once, the same items one large page gives. No list is cut short in silence."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.api.conftest import ADMIN_TOKEN, Server


def walk(fetch: Callable[[str | None], dict[str, Any]], key: Callable[[dict], Any],
         cursor_field: str = "next_cursor", items_field: str = "items") -> list[Any]:
    seen: list[Any] = []
    cursor = None
    for _ in range(10_000):
        page = fetch(cursor)
        seen += [key(item) for item in page[items_field]]
        cursor = page[cursor_field]
        if cursor is None:
            return seen
    raise AssertionError("paging never ended")


LISTS = [
    ("/v1/clusters", {}, lambda i: i["name"]),
    ("/v1/topics", {}, lambda i: (i["cluster"], i["topic"])),
    ("/v1/costs", {"group_by": "topic"}, lambda i: (i["cluster"], i["topic"])),
    ("/v1/costs", {"group_by": "owner"}, lambda i: i["owner"]),
    ("/v1/recommendations", {}, lambda i: i["id"]),
    ("/v1/recommendations", {"category": "risk"}, lambda i: i["id"]),
    ("/v1/plan", {}, lambda i: i["step"]),
    ("/v1/reports", {}, lambda i: i["id"]),
    ("/v1/jobs", {}, lambda i: i["id"]),
]


@pytest.mark.parametrize("path,params,key", LISTS,
                         ids=[f"{p}{'?' + str(q) if q else ''}" for p, q, _ in LISTS])
def test_paging_gets_every_item_exactly_once(api_server: Server, path: str, params: dict,
                                             key: Callable[[dict], Any]) -> None:
    items = "steps" if path == "/v1/plan" else "items"
    with api_server.client(ADMIN_TOKEN) as client:
        if path == "/v1/reports":  # three archived reports to page through
            for _ in range(3):
                client.post("/v1/jobs/report")
        whole = client.get(path, params={**params, "limit": 1000}).json()
        assert whole["next_cursor"] is None
        everything = [key(i) for i in whole[items]]

        def fetch(cursor: str | None) -> dict[str, Any]:
            answer = client.get(path, params={**params, "limit": 2,
                                              **({"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        paged = walk(fetch, key, items_field=items)
    assert len(paged) == len(set(paged)) == len(everything)
    assert paged == everything
    if path not in ("/v1/reports", "/v1/jobs", "/v1/clusters"):  # the tiny fleet: 1 cluster
        assert len(everything) > 2  # more than one page


def test_a_bad_cursor_is_refused_naming_it(api_server: Server) -> None:
    with api_server.client() as client:
        for path in ("/v1/recommendations", "/v1/clusters", "/v1/costs", "/v1/plan"):
            answer = client.get(path, params={"cursor": "not-ours"})
            assert answer.status_code == 422 and "cursor" in answer.text, path
        topics_cursor = client.get("/v1/clusters", params={"limit": 1}).json()["next_cursor"]
        if topics_cursor:  # a cursor of another list is not this list's
            assert client.get("/v1/recommendations",
                              params={"cursor": topics_cursor}).status_code == 422


def test_whatif_topics_are_sorted_paged_and_counted(api_server: Server) -> None:
    body = {"changes": [{"selector": {"all": True}, "growth_pct": 25}]}
    with api_server.client() as client:
        first = client.post("/v1/whatif", json=body).json()
        deltas = [abs(Decimal(t["delta_monthly_cost"])) for t in first["topics"]]
        assert deltas == sorted(deltas, reverse=True)
        total = first["topics_total"]
        assert total == len(first["topics"]) > 10

        def fetch(cursor: str | None) -> dict[str, Any]:
            return dict(client.post("/v1/whatif", json=body, params={
                "limit": 7, **({"cursor": cursor} if cursor else {})}).json())

        paged = walk(fetch, lambda t: (t["cluster"], t["topic"]),
                     cursor_field="topics_next_cursor", items_field="topics")
    assert paged == [(t["cluster"], t["topic"]) for t in first["topics"]]


def test_every_total_is_the_sum_of_its_components(api_server: Server) -> None:
    body = {"changes": [{"selector": {"all": True}, "growth_pct": 25},
                        {"selector": {"pattern": r"\.v1$"}, "retention_ms": 86_400_000}],
            "horizon_days": 180}
    with api_server.client() as client:
        answer = client.post("/v1/whatif", json=body).json()
    for name in ("baseline", "projected", "projected_at_horizon"):
        total = answer[name]
        parts = sum(Decimal(v) for v in total["by_component"].values())
        # every component is rounded to the cent on its own
        assert abs(parts - Decimal(total["monthly_cost"])) <= Decimal("0.005") * 8, name
    assert answer["projected_at_horizon"]["by_component"] != answer["projected"]["by_component"]


def test_kafka_scale_changes_are_warned_about(api_server: Server) -> None:
    with api_server.client() as client:
        answer = client.post("/v1/whatif", json={"changes": [
            {"selector": {"all": True}, "partitions": 100_000}]}).json()
    assert any("partition replicas per broker" in w for w in answer["warnings"])
    assert not any("capped" in w for w in answer["warnings"])  # no growth capped here


