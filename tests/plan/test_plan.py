"""The savings plan and the savings it is made of, on every simulated preset the suite can
afford (tiny, small, wix; `huge` is checked by `make bench`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from costopt.analyze.analysis import ClusterAnalysis, FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import build_plan
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.sizing import DEFAULTS, surviving_brokers
from costopt.whatif import Change, Selector, run_whatif
from tests.fleets import analyzed
from tests.rules import fixtures

PRESETS = ("tiny", "small", "wix")


@pytest.mark.parametrize("preset", PRESETS)
def test_plan_total_equals_one_whatif_of_all_its_changes_to_the_micro_unit(preset: str) -> None:
    analysis = analyzed(preset)
    plan = analysis.plan()
    assert plan.steps, "a simulated fleet has planted waste: the plan cannot be empty"
    result = run_whatif(analysis.models, plan.changes())
    assert (result.baseline - result.projected).amount == plan.total_savings.amount
    assert result.baseline.amount == Decimal(analysis.monthly_cost_micros()) / 10**6
    cumulative = 0
    for step in plan.steps:
        cumulative += step.marginal_savings_micros
        assert step.cumulative_savings_micros == cumulative
    if preset != "tiny":  # a 40-topic toy on 3-broker minimums is mostly idle capacity
        assert 0.2 < plan.share_of_bill < 0.6  # a guard: it once claimed 61-84%


@pytest.mark.parametrize("preset", PRESETS)
def test_no_topic_recommendation_saves_more_than_its_topic_costs(preset: str) -> None:
    analysis = analyzed(preset)
    topic_savings = [r for r in analysis.recommendations
                     if r.target_type == "topic" and r.category == "saving"]
    assert topic_savings
    for rec in analysis.recommendations:
        assert rec.monthly_cost is None or rec.monthly_cost.amount > 0, rec.title
        if rec.monthly_savings.amount < 0:  # it costs money now: that is its monthly_cost
            assert rec.monthly_cost is not None
            assert rec.monthly_cost.amount == -rec.monthly_savings.amount, rec.title
    for rec in topic_savings:
        assert rec.target_cost is not None
        assert rec.monthly_savings.amount <= rec.target_cost.amount, rec.title


@pytest.mark.parametrize("preset", ("small", "wix"))
def test_every_recommendation_saves_exactly_what_its_whatif_says(preset: str) -> None:
    """Sign included: tiering onto provisioned disks costs a little now (object storage) and
    frees disk that only the cluster's capacity step turns into money."""
    analysis = analyzed(preset)
    differ = []
    for rec in analysis.recommendations:
        if not rec.whatif:
            assert rec.monthly_savings.amount == 0, rec.title
            continue
        result = run_whatif(analysis.models, list(rec.whatif))
        if (result.baseline - result.projected).amount != rec.monthly_savings.amount:
            differ.append((rec.kind, rec.title, rec.monthly_savings,
                           result.baseline - result.projected))
    assert not differ, differ[:5]


@pytest.mark.parametrize("preset", ("small", "wix"))
def test_steps_that_pay_off_only_through_a_capacity_step_name_it_and_the_pair(
        preset: str) -> None:
    plan = analyzed(preset).plan()
    by_number = {s.number: s for s in plan.steps}
    paired = [s for s in plan.steps if s.pays_off_with is not None]
    assert paired, "tiering frees disk only a resize turns into money"
    shares: dict[int, int] = {}
    for step in paired:
        pair = step.pays_off_with
        assert pair is not None and step.marginal_savings_micros <= 0
        resize = by_number[pair.step]
        assert resize.recommendation.kind == "broker_sizing"
        assert resize.recommendation.id == pair.id and resize.number > step.number
        assert resize.recommendation.cluster == step.recommendation.cluster
        assert pair.pair_savings_micros == step.marginal_savings_micros + \
            pair.capacity_share_micros
        shares[pair.step] = shares.get(pair.step, 0) + pair.capacity_share_micros
        body = step.to_dict(plan.currency)["pays_off_with"]
        assert body["step"] == resize.number and body["currency"] == plan.currency
    for number, share in shares.items():  # shares of a resize never exceed what it saves
        assert 0 <= share <= by_number[number].marginal_savings_micros + len(paired)
    assert any(s.recommendation.kind == "tiered_storage" for s in paired)


def test_alternatives_for_one_target_are_taken_once_and_deleted_topics_are_not_changed() -> None:
    analysis = fixtures.over_retained_fleet()
    [retention] = [r for r in analysis.recommendations if r.kind == "retention"]
    topic = retention.target
    tiering = replace(retention, kind="tiered_storage", title=f"Tier {topic}", risk="medium",
                      proposed={"remote.storage.enable": True},
                      whatif=(Change(selector=Selector(cluster="c1", topic=topic),
                                     tiered_storage=True),))
    deletion = replace(retention, kind="idle_topic", title=f"Delete {topic}", risk="high",
                       alternative_group=None, proposed={"exists": False},
                       whatif=(Change(selector=Selector(cluster="c1", topic=topic),
                                      delete_topic=True),))
    codec = replace(retention, kind="compression", alternative_group=None, risk="high",
                    proposed={"compression.type": "zstd"},
                    whatif=(Change(selector=Selector(cluster="c1", topic=topic),
                                   compression="zstd"),))
    plan = build_plan(analysis_models(analysis), {"c1": analysis.history},
                      [retention, tiering, deletion, codec])
    kinds = [s.recommendation.kind for s in plan.steps if s.recommendation.kind != "broker_sizing"]
    assert kinds.count("retention") + kinds.count("tiered_storage") == 1
    assert plan.skipped.get("an alternative for the same target was taken") == 1
    assert kinds == ["retention", "idle_topic"]  # nothing after a deletion touches the topic
    assert plan.skipped.get("its topic is deleted by an earlier step") == 1
    result = run_whatif(analysis_models(analysis), plan.changes())
    assert (result.baseline - result.projected).amount == plan.total_savings.amount
    wix = analyzed("wix").plan()
    keys = [step.recommendation.conflict_key for step in wix.steps]
    assert len(keys) == len(set(keys))


def analysis_models(analysis: ClusterAnalysis) -> dict[str, ClusterModel]:
    return {analysis.model.cluster: analysis.model}


def _disk_fill_after_losing_a_zone(analysis: FleetAnalysis, changes: list, cluster: str
                                   ) -> float:
    result = run_whatif(analysis.models, changes, horizon_days=90)
    [capacity] = [c for c in result.capacity if c.cluster == cluster]
    zones = analysis.models[cluster].snapshot.zones
    surviving = surviving_brokers(capacity.brokers, zones, DEFAULTS) / capacity.brokers
    return capacity.disk_used_bytes_projected / (capacity.disk_capacity_bytes * surviving)


def test_broker_sizing_on_wix_keeps_disk_under_85pct_at_90_days_after_losing_a_zone() -> None:
    analysis = analyzed("wix")
    sizing = [r for r in analysis.recommendations if r.kind == "broker_sizing"]
    assert sizing, "wix has generously sized clusters"
    for rec in sizing:
        assert rec.proposed["brokers"] >= 3 and rec.proposed["brokers"] % 3 == 0
        assert _disk_fill_after_losing_a_zone(analysis, list(rec.whatif), rec.cluster) <= 0.85
    plan = analysis.plan()
    resized = [s for s in plan.steps if s.recommendation.kind == "broker_sizing"]
    assert resized
    for step in resized:  # the plan's resize, after the topic changes that freed the disk
        cluster = step.recommendation.cluster
        changes = [c for s in plan.steps if s.recommendation.cluster == cluster
                   for c in s.recommendation.whatif]
        assert _disk_fill_after_losing_a_zone(analysis, changes, cluster) <= 0.85


def test_capacity_needs_are_risks_with_a_cost_and_the_saving_of_their_whatif() -> None:
    analysis = analyzed("wix")
    needs = [r for r in analysis.recommendations if r.kind == "capacity"]
    assert needs, "wix has clusters short of disk at 90 days after losing a zone"
    for need in needs:
        assert need.category == "risk" and need.severity in ("critical", "high", "medium")
        assert need.monthly_cost is not None
        assert need.monthly_savings.amount == -need.monthly_cost.amount  # its what-if's
        assert any(e.name == "runway" for e in need.evidence)
        result = run_whatif(analysis.models, list(need.whatif))
        assert (result.projected - result.baseline).amount == need.monthly_cost.amount
        assert all(w for w in result.warnings if "limit 85%" not in w)


def test_the_plan_leaves_out_what_was_decided_and_resizes_no_cluster_whose_sizing_was() -> None:
    analysis = analyzed("small")
    plan = analysis.plan()
    first = plan.steps[0].recommendation
    resize = next(s.recommendation for s in plan.steps
                  if s.recommendation.kind == "broker_sizing")
    standalone = next(r for r in analysis.recommendations
                      if r.kind == "broker_sizing" and r.cluster == resize.cluster)
    stored = {first.id: {"status": "dismissed", "evidence_fingerprint":
                         first.evidence_fingerprint, "reason": "no"},
              standalone.id: {"status": "snoozed", "evidence_fingerprint": "",
                              "snoozed_until": analysis.generated_at.replace(year=2999),
                              "reason": "later"}}
    decided = analysis.plan(Decisions(stored))
    ids = {s.recommendation.id for s in decided.steps}
    assert first.id not in ids
    assert not any(s.recommendation.kind == "broker_sizing"
                   and s.recommendation.cluster == resize.cluster for s in decided.steps)
    assert decided.total_savings.amount < plan.total_savings.amount
