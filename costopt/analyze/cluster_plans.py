"""Each cluster's savings plan, planned once with its analysis and kept with it.

Planning `wix` takes seconds of CPU (11,848 steps, each priced on the cluster as changed by
those before), and every reader of a current analysis asks for the same plan: the weekly
report, `GET /v1/plan`, `/metrics`, the change sets. Clusters do not affect each other's plan
(`costopt.analyze.plan`), and a cluster's plan depends only on its analysis, the rule settings and
the decisions taken on its recommendations. So the analysis that the store caches per cluster
(`costopt.analyze.analysis.refresh_analysis`, `cached_analysis`) carries that cluster's plan with
nobody's decisions, and a fleet plan takes it for every cluster where no decision touches an
open recommendation, planning only the others (`build_plan`'s `previous` and `rebuild`: the
steps are the same, numbered and paired over the fleet afresh).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import SavingsPlan, build_plan
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.history import History
from costopt.rules.recommendation import Recommendation


def cluster_plan(model: ClusterModel, history: History,
                 recommendations: Sequence[Recommendation],
                 rule_settings: Mapping[str, Any], currency: str) -> SavingsPlan:
    """One cluster's plan with every recommendation open (what `fleet_plan` reuses)."""
    return build_plan({model.cluster: model}, {model.cluster: history}, recommendations,
                      Decisions(), rule_settings, currency)


def fleet_plan(models: Mapping[str, ClusterModel], histories: Mapping[str, History],
               recommendations: Sequence[Recommendation], decisions: Decisions,
               rule_settings: Mapping[str, Any], currency: str,
               kept: Mapping[str, SavingsPlan | None]) -> SavingsPlan:
    """The plan of the open recommendations, taking each cluster's `kept` plan (planned by
    `cluster_plan` under the same rule settings) where every recommendation of the cluster is
    open under `decisions`, and planning the other clusters."""
    decided = {d.recommendation.cluster for d in decisions.decide(recommendations)
               if d.status != "open"}
    reusable = {name: plan for name, plan in kept.items()
                if plan is not None and name in models and name not in decided}
    if not reusable:
        return build_plan(models, histories, recommendations, decisions, rule_settings,
                          currency)
    previous = SavingsPlan(currency, 0, tuple(step for plan in reusable.values()
                                              for step in plan.steps),
                           skipped_by_cluster={name: dict(plan.skipped_by_cluster.get(name, {}))
                                               for name, plan in reusable.items()})
    return build_plan(models, histories, recommendations, decisions, rule_settings, currency,
                      previous=previous, rebuild=set(models) - set(reusable))
