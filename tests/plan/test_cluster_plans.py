"""Each cluster's plan kept with its cached analysis: a plan of a current analysis is loaded,
not planned, and equals the plan built afresh, with and without decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from costopt.analyze import plan as plan_module
from costopt.analyze.analysis import FleetAnalysis, cached_analysis
from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import SavingsPlan, build_plan
from costopt.config import Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from tests.fleets import fleet


def _fresh(analysis: FleetAnalysis, decisions: Decisions) -> SavingsPlan:
    return build_plan(analysis.models, analysis.histories, analysis.recommendations,
                      decisions, analysis.rule_settings, analysis.currency)


def _shown(plan: SavingsPlan) -> list[Any]:
    return [plan.bill_micros, plan.skipped, plan.skipped_by_cluster,
            [step.to_dict(plan.currency) for step in plan.steps]]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> FleetAnalysis:
    store = Store.open(sqlite_url(Path(tmp_path_factory.mktemp("plans")) / "costopt.db"))
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=5, records_per_topic=20)
    settings = Settings(store_url=store.url)
    cached_analysis(store, settings)  # computes and caches, as the analyze run does
    return cached_analysis(store, settings)  # what a report or an API worker loads


def _planned_clusters(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The clusters the planner plans from here on (a spy on the real planner)."""
    seen: list[str] = []
    real = plan_module._plan_cluster

    def spy(model: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(model.cluster)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(plan_module, "_plan_cluster", spy)
    return seen


def test_a_loaded_analysis_plans_nothing_and_equals_the_fresh_plan(
        loaded: FleetAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(cluster.plan is not None for cluster in loaded.clusters.values())
    planned = _planned_clusters(monkeypatch)
    kept = loaded.plan()
    assert planned == []
    assert len(kept.steps) > 20
    assert _shown(kept) == _shown(_fresh(loaded, Decisions()))


def test_a_decision_replans_its_cluster_only_and_equals_the_fresh_plan(
        loaded: FleetAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = loaded.plan()
    sizing = next(r for r in loaded.recommendations if r.kind == "broker_sizing")
    first = next(s.recommendation for s in kept.steps
                 if s.recommendation.cluster == sizing.cluster)
    decisions = Decisions({
        first.id: {"status": "dismissed", "evidence_fingerprint": first.evidence_fingerprint,
                   "reason": "not now"},
        sizing.id: {"status": "accepted", "reason": "resizing by hand"}})
    planned = _planned_clusters(monkeypatch)
    decided = loaded.plan(decisions)
    assert set(planned) == {first.cluster}  # both variants of its plan, nothing else
    fresh = _fresh(loaded, decisions)
    assert _shown(decided) == _shown(fresh)
    assert first.id not in {s.recommendation.id for s in decided.steps}
    assert decided.total_savings_micros != kept.total_savings_micros
