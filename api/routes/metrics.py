"""`/metrics`: costopt's figures as Prometheus gauges for Grafana, with bounded cardinality
(per-topic series only for the top N topics by cost)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.auth import check_scope
from api.budget_metrics import BudgetCollector
from api.routes.anomaly_metrics import AnomalyCollector
from api.routes.budgets import current_statuses
from api.state import AppState
from api.unit_cost_metrics import UnitCostCollector
from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.base.money import micros_to_units
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED
from costopt.cost.rollup import rollup

router = APIRouter(tags=["metrics"])


def top_topic_rows(analysis: FleetAnalysis, top: int) -> pd.DataFrame:
    """The `top` topics by cost: the only ones with per-topic series (bounded cardinality)."""
    rows = rollup(analysis.costs, "topic")
    return rows[~rows["topic"].isin([IDLE, UNALLOCATED])].head(top)


class FleetCollector(Collector):
    def __init__(self, analysis: FleetAnalysis, top_topics: int,
                 decisions: Decisions | None = None) -> None:
        self.analysis = analysis
        self.top_topics = top_topics
        self.decisions = decisions or Decisions()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        currency = self.analysis.currency
        component = GaugeMetricFamily(
            "costopt_cluster_monthly_cost", f"Monthly cost by cluster and component "
            f"({currency}/month)", labels=["cluster", "component", "currency"])
        for cost in self.analysis.costs:
            for c in COMPONENTS:
                component.add_metric([cost.cluster, c, currency],
                                     micros_to_units(cost.bill_micros[c]))
        yield component
        owner = GaugeMetricFamily("costopt_owner_monthly_cost",
                                  f"Monthly cost by owner ({currency}/month)",
                                  labels=["cluster", "owner", "currency"])
        for row in rollup(self.analysis.costs, "cluster_owner").itertuples(index=False):
            owner.add_metric([row.cluster, row.owner, currency],
                             micros_to_units(row.monthly_cost_micros))
        yield owner
        topic = GaugeMetricFamily(
            "costopt_topic_monthly_cost", f"Monthly cost of the top {self.top_topics} topics "
            f"by cost, by component ({currency}/month)",
            labels=["cluster", "topic", "owner", "component", "currency"])
        rows = top_topic_rows(self.analysis, self.top_topics)
        for row in rows.itertuples(index=False):
            for c in COMPONENTS:
                topic.add_metric([row.cluster, row.topic, row.owner, c, currency],
                                 micros_to_units(getattr(row, f"{c}_micros")))
        yield topic
        savings = GaugeMetricFamily(
            "costopt_savings_available_monthly",
            f"Monthly savings of the savings plan (open recommendations applied together), by "
            f"kind ({currency}/month)", labels=["cluster", "kind", "currency"])
        plan = self.analysis.plan(self.decisions)
        for (cluster_name, kind), micros in sorted(plan.savings_by("kind").items()):
            savings.add_metric([cluster_name, kind, currency], micros_to_units(micros))
        yield savings
        counts = GaugeMetricFamily("costopt_recommendations",
                                   "Open recommendations (not accepted, dismissed or snoozed)",
                                   labels=["cluster", "kind", "category", "severity"])
        numbers: dict[tuple[str, str, str, str], int] = {}
        for rec in self.decisions.open(self.analysis.recommendations):
            key = (rec.cluster, rec.kind, rec.category, rec.severity or "")
            numbers[key] = numbers.get(key, 0) + 1
        for labels, number in sorted(numbers.items()):
            counts.add_metric(list(labels), number)
        yield counts
        runway = GaugeMetricFamily("costopt_runway_days",
                                   "Days until a capacity limit (+Inf: not within the "
                                   "forecast horizon)", labels=["cluster", "resource"])
        for name, analyzed in self.analysis.clusters.items():
            for r in analyzed.forecast.runways:
                runway.add_metric([name, r.resource],
                                  float(r.days) if r.days is not None else float("inf"))
        yield runway
        lag = GaugeMetricFamily(
            "costopt_topic_max_consumer_lag_seconds",
            f"Largest time lag of a live consumer group, top {self.top_topics} topics by cost",
            labels=["cluster", "topic"])
        top = set(zip(rows["cluster"], rows["topic"], strict=True))
        for name, analyzed in self.analysis.clusters.items():
            worst: dict[str, float] = {}
            for group in analyzed.model.snapshot.groups:
                if (name, group.topic) in top and group.members > 0 and \
                        group.lag_seconds is not None:
                    worst[group.topic] = max(worst.get(group.topic, 0.0), group.lag_seconds)
            for topic_name, seconds in worst.items():
                lag.add_metric([name, topic_name], seconds)
        yield lag
        taken = GaugeMetricFamily("costopt_snapshot_timestamp_seconds",
                                  "When the analyzed snapshot was taken", labels=["cluster"])
        for name, analyzed in self.analysis.clusters.items():
            taken.add_metric([name], analyzed.model.snapshot.taken_at.timestamp())
        yield taken


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    state: AppState = request.app.state.costopt
    if not state.settings.api.open_metrics:
        check_scope(request, "read")
    registry = CollectorRegistry(auto_describe=False)
    analysis = state.analysis()
    registry.register(FleetCollector(analysis, state.settings.api.metrics_top_topics,
                                     Decisions(state.statuses.statuses())))
    registry.register(UnitCostCollector(analysis, top_topic_rows(
        analysis, state.settings.api.metrics_top_topics)))
    registry.register(BudgetCollector(current_statuses(state, analysis)))
    registry.register(AnomalyCollector(state.store))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
