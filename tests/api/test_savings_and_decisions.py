"""One source of truth for savings, over a real `costopt serve` on the `small` fleet:

- every kind of recommendation states what-if changes, and `POST /v1/whatif` of them gives its
  saving to the cent, sign included (a change that costs money now saves less than nothing);
- `GET /v1/plan` totals one what-if of all its steps' changes;
- after a dismissal, a snooze and an acceptance through the API, the API, `/metrics`, the
  weekly report and `costopt analyze` show the same open set and the same savings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from costopt.simulate.load import load_fleet
from costopt.store import Store
from tests.api.conftest import ADMIN_TOKEN, Server, run, start_server, write_config
from tests.fleets import fleet


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = Path(tmp_path_factory.mktemp("small"))
    store_url = f"sqlite:///{directory / 'costopt.db'}"
    load_fleet(Store.open(store_url), fleet("small"), sampled_topics_per_cluster=20,
               records_per_topic=40)
    config = write_config(directory / "costopt.yaml", store_url)
    settings = yaml.safe_load(config.read_text())
    settings["rules"] = {"fan_out": {"min_groups": 2, "min_monthly_savings": 0.01}}
    config.write_text(yaml.safe_dump(settings))
    server = start_server(config, directory / "serve.log")
    yield server
    server.process.stop()


def _all(client: httpx.Client) -> list[dict]:
    return list(client.get("/v1/recommendations", params={"limit": 10_000}).json()["items"])


def test_every_kind_of_recommendation_reproduces_through_post_whatif(small: Server) -> None:
    with small.client() as client:
        recs = _all(client)
        kinds = {r["kind"] for r in recs if r["whatif"]}
        expected = {"retention", "compression", "partitions", "replication", "tiered_storage",
                    "idle_topic", "abandoned_group", "fan_out", "rack_aware_fetch",
                    "broker_sizing"}
        assert expected <= kinds, expected - kinds
        checked = set()
        for rec in recs:
            if not rec["whatif"] or rec["kind"] in checked:
                continue
            answer = client.post("/v1/whatif", json={"changes": rec["whatif"]})
            assert answer.status_code == 200, answer.text
            delta = Decimal(answer.json()["delta"]["monthly_cost"])
            assert -delta == Decimal(rec["monthly_savings"]), rec["title"]  # sign included
            if delta > 0:  # what it adds to the bill, where it adds
                assert Decimal(rec["monthly_cost"]) == delta, rec["title"]
            checked.add(rec["kind"])
        assert checked == kinds


def test_the_plan_totals_one_whatif_of_all_its_changes(small: Server) -> None:
    with small.client() as client:
        plan = client.get("/v1/plan", params={"limit": 5000}).json()
        assert plan["total_steps"] == len(plan["steps"]) > 0 and plan["next_cursor"] is None
        # The API takes 100 changes a request: the first k steps together save the plan's
        # cumulative saving at step k (every step's saving is marginal on those before it).
        steps = plan["steps"][:100]
        answer = client.post("/v1/whatif", json={
            "changes": [c for step in steps for c in step["whatif"]]})
        assert answer.status_code == 200, answer.text
        assert Decimal(answer.json()["delta"]["monthly_cost"]) == \
            -Decimal(steps[-1]["cumulative_savings"])
        first = client.get("/v1/plan", params={"limit": 10}).json()
        rest = client.get("/v1/plan", params={"limit": 5000,
                                                "cursor": first["next_cursor"]}).json()
        assert [s["step"] for s in first["steps"] + rest["steps"]] == \
            [s["step"] for s in plan["steps"]]
        assert client.get("/v1/plan", params={"cursor": "bogus!"}).status_code == 422


def _metric_sum(text: str, name: str) -> float:
    return sum(float(m.group(1)) for m in re.finditer(
        rf"^{name}{{[^}}]*}} (\S+)$", text, re.MULTILINE))


def test_decisions_give_the_same_open_set_and_total_everywhere(small: Server,
                                                               tmp_path: Path) -> None:
    with small.client(ADMIN_TOKEN) as admin:
        plan = admin.get("/v1/plan", params={"limit": 5000}).json()
        dismissed, snoozed, accepted = (step["id"] for step in plan["steps"][:3])
        until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        assert admin.post(f"/v1/recommendations/{dismissed}/dismiss",
                          json={"reason": "owner keeps it"}).status_code == 200
        assert admin.post(f"/v1/recommendations/{snoozed}/snooze",
                          json={"reason": "after the freeze", "until": until}).status_code == 200
        assert admin.post(f"/v1/recommendations/{accepted}/accept",
                          json={"reason": "doing it"}).status_code == 200
        after = admin.get("/v1/plan", params={"limit": 5000}).json()
        open_ids = {r["id"] for r in admin.get("/v1/recommendations", params={
            "status": "open", "limit": 10_000}).json()["items"]}
        metrics = admin.get("/metrics").text
        detail = admin.get(f"/v1/recommendations/{accepted}").json()
    step_ids = {s["id"] for s in after["steps"]}
    assert not {dismissed, snoozed, accepted} & (step_ids | open_ids)
    assert Decimal(after["savings"]) < Decimal(plan["savings"])
    assert detail["status"] == "accepted" and detail["realized"]["applied"] is False
    # /metrics: the same total, the same number of open recommendations
    assert round(_metric_sum(metrics, "costopt_savings_available_monthly"), 2) == \
        float(after["savings"])
    assert _metric_sum(metrics, "costopt_recommendations") == len(open_ids)
    # the weekly report
    report = run("report", "--config", str(small.config), "--out", str(tmp_path))
    assert report.returncode == 0, report.stderr
    [data] = [json.loads(p.read_text()) for p in tmp_path.glob("costopt-report-*.json")]
    assert data["fleet"]["savings_available"] == after["savings"]
    listed = {r["id"] for r in data["top_recommendations"]} | {r["id"] for r in data["risks"]}
    assert not {dismissed, snoozed, accepted} & listed
    assert data["fleet"]["recommendations"] + data["fleet"]["risks"] == len(open_ids)
    # the CLI
    cli = run("analyze", "--config", str(small.config))
    assert cli.returncode == 0, cli.stderr
    assert f"savings available: {Decimal(after['savings']):,} USD/month" in cli.stdout
