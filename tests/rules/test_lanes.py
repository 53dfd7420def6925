"""The lane rule and the lanes in the plan, on the simulator's `small` and `wix` fleets with
lanes enabled (`rules.lane.enabled: true`), through the real app (`create_app`, its routes and
validation) over the in-memory analysis, as `tests/api/test_plan_replay.py` does:

- lane recommendations go only to topics whose planted readers are all batch readers (daily,
  weekly, audit): never to a topic a planted streaming (live) reader reads, never to a
  compacted or protected topic;
- each reproduces through `POST /v1/whatif` to the cent;
- where a cluster's candidates together do not pay for every broker's uploads, they are
  watches the plan does not take;
- the plan equals one what-if of all its changes, and names the tiering each lane step
  displaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_analysis
from costopt.analyze.analysis import FleetAnalysis
from costopt.config import ApiSettings, Settings
from costopt.prices.catalog import load_builtin_catalog
from costopt.rules.protected import Protection
from costopt.store import Store, sqlite_url
from costopt.whatif import Change, run_whatif
from tests.fleets import analyze_in_memory, fleet

LANES_ON = {"lane": {"enabled": True}}
BATCH_KINDS = {"daily_batch", "weekly_batch", "audit"}


@lru_cache(maxsize=2)
def with_lanes(preset: str) -> FleetAnalysis:
    return analyze_in_memory(fleet(preset), settings=Settings(rules=LANES_ON))


@pytest.fixture(scope="module", params=("small", "wix"))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, FleetAnalysis, TestClient]]:
    preset = str(request.param)
    analysis = with_lanes(preset)
    store = Store.open(sqlite_url(Path(tmp_path_factory.mktemp(preset)) / "costopt.db"))
    app = create_app(Settings(api=ApiSettings(auth_enabled=False, warm_at_start=False,
                                              request_timeout_seconds=600),
                              rules=LANES_ON), store)

    async def analysis_of() -> FleetAnalysis:
        return analysis

    app.dependency_overrides[get_analysis] = analysis_of
    with TestClient(app) as client:
        yield preset, analysis, client
    store.close()


def _lane_recs(analysis: FleetAnalysis) -> list[Any]:
    return [r for r in analysis.recommendations if r.kind == "lane"]


def test_lanes_are_off_by_default() -> None:
    from tests.fleets import analyzed

    assert not [r for r in analyzed("small").recommendations if r.kind == "lane"]


def test_lane_advice_goes_only_to_topics_every_planted_reader_reads_in_batches(
        served: tuple[str, FleetAnalysis, TestClient]) -> None:
    preset, analysis, _ = served
    recs = _lane_recs(analysis)
    assert recs, f"{preset}: no lane recommendation"
    groups = fleet(preset).groups
    readers = groups[groups["kind"] != "abandoned"].groupby(["cluster", "topic"])["kind"]
    kinds = {key: set(values) for key, values in readers}
    protection = Protection()
    for rec in recs:
        planted = kinds[(rec.cluster, rec.target)]
        assert planted <= BATCH_KINDS, (rec.target, planted)
        topic = analysis.models[rec.cluster].snapshot.topic(rec.target)
        assert not topic.is_compacted and protection.reason(rec.target) is None
        assert rec.whatif[0].lane == "diskless"
    # And every topic with a planted live reader that the rule looked at was left out.
    live = {key for key, values in kinds.items() if "streaming" in values}
    assert not live & {(r.cluster, r.target) for r in recs}


def test_each_lane_recommendation_reproduces_through_post_whatif_to_the_cent(
        served: tuple[str, FleetAnalysis, TestClient]) -> None:
    _, analysis, client = served
    for rec in _lane_recs(analysis):
        answer = client.post("/v1/whatif", json={
            "changes": [c.model_dump(exclude_none=True) for c in rec.whatif]})
        assert answer.status_code == 200, answer.text
        saving = -Decimal(answer.json()["delta"]["monthly_cost"])
        assert saving == rec.monthly_savings.rounded(), rec.target


@pytest.mark.parametrize("served", ["small"], indirect=True)
def test_moves_that_do_not_pay_for_the_uploads_are_watches_out_of_the_plan(
        served: tuple[str, FleetAnalysis, TestClient]) -> None:
    """On `small`'s second self-managed cluster the candidates save less together than the
    uploads (every broker, every 250 ms) their share of the bytes does not pay for: each is a
    watch that says so, and the plan takes none of them; the first cluster's pay."""
    _, analysis, client = served
    by_cluster: dict[str, set[str]] = {}
    for rec in _lane_recs(analysis):
        by_cluster.setdefault(rec.cluster, set()).add(rec.category)
        assert (rec.category == "watch") == ("uploads" in rec.title)
    assert sorted(by_cluster.values(), key=sorted) == [{"saving"}, {"watch"}]
    watched = {c for c, kinds in by_cluster.items() if kinds == {"watch"}}
    plan = client.get("/v1/plan", params={"limit": 5000}).json()
    assert not [s for s in plan["steps"] if s["kind"] == "lane" and s["cluster"] in watched]


@pytest.mark.parametrize("served", ["small"], indirect=True)
def test_the_plan_with_lanes_equals_one_whatif_and_says_which_alternative_it_took(
        served: tuple[str, FleetAnalysis, TestClient]) -> None:
    _, analysis, client = served
    plan = client.get("/v1/plan", params={"limit": 5000}).json()
    assert plan["next_cursor"] is None
    steps = plan["steps"]
    assert any(s["kind"] == "lane" for s in steps)
    # More changes than one request takes (100): the plan replays in one what-if over REST,
    # and the engine behind it takes every step's changes at once.
    answer = client.post("/v1/whatif", json={"plan": {}})
    assert answer.status_code == 200, answer.text
    assert -Decimal(answer.json()["delta"]["monthly_cost"]) == Decimal(plan["savings"])
    changes = [Change.model_validate(c) for step in steps for c in step["whatif"]]
    combined = run_whatif(analysis.models, changes, resolve_catalog=load_builtin_catalog)
    assert (combined.baseline - combined.projected).rounded() == Decimal(plan["savings"])
    # At most one step per alternative group, and the left-out alternatives named.
    taken = [s["alternative_group"] for s in steps if s["alternative_group"]]
    assert len(taken) == len(set(taken))
    left_out = {a["id"] for s in steps for a in s["alternatives_left_out"]}
    groups = {r.id: r.alternative_group for r in analysis.recommendations}
    for step in steps:
        for other in step["alternatives_left_out"]:
            assert groups[other["id"]] == step["alternative_group"] and other["why"]
    assert not left_out & {s["id"] for s in steps}
    # On `small` the diskless lane displaces tiering for some topics: the plan says so.
    assert any(s["kind"] == "lane" and any(a["kind"] == "tiered_storage"
                                           for a in s["alternatives_left_out"]) for s in steps)


def test_excluded_topics_are_skipped_with_the_reason() -> None:
    """A topic declared transactional is left out, saying so; so is every compacted topic and
    every topic a planted streaming reader reads (it needs low latency)."""
    moved = _lane_recs(with_lanes("small"))[0]
    settings = Settings(rules={"lane": {"enabled": True, "transactional_topics": [
        f"^{re.escape(moved.target)}$"]}})
    analysis = analyze_in_memory(fleet("small"), settings=settings)
    assert moved.target not in {r.target for r in _lane_recs(analysis)}
    skips = {(s.target, s.reason) for c in analysis.clusters.values() for s in c.skipped
             if s.rule == "lane"}
    assert (moved.target, "written transactionally (rules.lane.transactional_topics)") in skips
    reasons = " ".join(reason for _, reason in skips)
    assert "compacted" in reasons and "reads live" in reasons


def test_bad_transactional_patterns_are_refused_naming_the_setting() -> None:
    from costopt.rules.diskless_lane import LaneRule

    for bad in ("orders", ["(unclosed"]):
        with pytest.raises(ValueError, match=r"rules\.lane\.transactional_topics"):
            LaneRule().settings({"transactional_topics": bad})


@pytest.mark.parametrize("served", ["small"], indirect=True)
def test_a_lane_the_offering_has_not_is_a_422_naming_the_field(
        served: tuple[str, FleetAnalysis, TestClient]) -> None:
    _, analysis, client = served
    cluster = next(n for n, m in analysis.models.items() if m.catalog.kind == "self_managed")
    for lane in ("express", "freight"):
        answer = client.post("/v1/whatif", json={"changes": [
            {"selector": {"cluster": cluster}, "lane": lane}]})
        assert answer.status_code == 422, answer.text
        assert "lane" in answer.text and cluster in answer.text
    unknown = client.post("/v1/whatif", json={"changes": [
        {"selector": {"cluster": cluster}, "lane": "slow"}]})
    assert unknown.status_code == 422 and "lane" in unknown.text
