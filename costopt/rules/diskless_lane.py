"""Which topics can move to the diskless lane (KIP-1150): those whose every reader already
waits far longer than the lane's 1–2 s end-to-end delay, where the move saves money after the
lane's object requests.

A diskless topic keeps one copy on object storage and replicates nothing between brokers,
so its replication and cross-zone client traffic go (docs/cost-model.md, "Lanes"). It pays
with latency: a produced batch waits for the broker's upload interval and the coordinator
before a reader sees it. So the evidence is the readers, over the window: every group that
reads the topic is a periodic batch reader (`Empty` between runs, or its lag reaching
`batch_lag_seconds` over the window) and none reads within `min_reader_lag_seconds` of the
head now. One live reader that keeps up is enough to keep the topic where it is.

Excluded, with the reason recorded as a skip: compacted topics (diskless topics do not
compact), topics written transactionally (costopt cannot see transactional producers: name
them in `transactional_topics`), protected platform topics (`rules/protected.py`), topics no
one reads (nothing to judge latency by), and clusters whose offering has no diskless topics.

Request costs: the engine shares the cluster's object requests by bytes written, but every
broker uploads each interval once any of its traffic is diskless. So the cluster's candidates
are weighed together against the uploads their bytes do not pay for; where they save less,
each is a `watch` that says so, and stays out of the plan.

Opt-in (`rules.lane.enabled: true`): diskless topics are not in an Apache Kafka release yet
(KIP-1150 was accepted in March 2026; Aiven's Inkless runs them), and a topic moves only by
being created anew, so the advice is for fleets that run them. Tiering and diskless are
alternatives for one topic (`storage_alternatives`): the plan takes at most one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from costopt.base.patterns import Matcher, compile_pattern
from costopt.cost.allocation import diskless_requests_floor_per_month
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import BaseRule, RuleContext, Skip, topic_change, worth_recommending
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.readers import GroupRead
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.rules.retention import storage_alternatives
from costopt.whatif.lanes import DISKLESS_KINDS

LANE_LATENCY = "1–2 s end to end at p99 (Aiven's benchmark: about 1.6 s)"


def why_latency_bound(read: GroupRead, config: Mapping[str, Any]) -> str | None:
    """Why this group needs the classic lane's latency, or None where it tolerates seconds."""
    lag = read.lag_seconds or 0.0
    peak = read.max_lag_seconds or 0.0
    if read.live and lag < config["min_reader_lag_seconds"]:
        return (f"group {read.group} reads within {config['min_reader_lag_seconds']:g} s of "
                f"the head (lag {lag:.1f} s now): it needs low latency")
    if read.live and peak < config["batch_lag_seconds"]:
        return (f"group {read.group} reads live (lag {lag:.0f} s now, at most {peak:.0f} s "
                "over the window): a reader that keeps up would see the lane's delay")
    return None


class LaneRule(BaseRule):
    name = "lane"
    enabled_by_default = False
    defaults: ClassVar[dict[str, Any]] = {
        "min_reader_lag_seconds": 1.0,
        "batch_lag_seconds": 3600.0,
        "min_window_days": 7,
        "min_monthly_savings": 5.0,
        "transactional_topics": [],
    }

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        config = super().settings(overrides)
        patterns = config["transactional_topics"]
        if isinstance(patterns, str) or not isinstance(patterns, list | tuple):
            raise ValueError("rules.lane.transactional_topics must be a list of regular "
                             "expressions")
        for pattern in patterns:
            try:
                compile_pattern(str(pattern))
            except ValueError as exc:
                raise ValueError(f"rules.lane.transactional_topics: {exc}") from None
        return config

    def evaluate(self, model: ClusterModel, history: History, settings: Mapping[str, Any],
                 context: RuleContext | None = None,
                 skipped: list[Skip] | None = None) -> list[Recommendation]:
        """Each topic priced through the engine, then the cluster's candidates together
        against the uploads no bytes share: until they pay for those, they are watches."""
        recs = super().evaluate(model, history, settings, context, skipped)
        basis = model.cost.basis
        if not recs or basis.bytes_in_total <= 0:
            return recs
        moved = float(model.columns["bytes_in_per_second"][
            [model.index[r.target] for r in recs]].sum())
        unshared = diskless_requests_floor_per_month(basis) * max(
            1.0 - moved / basis.bytes_in_total, 0.0)
        together = sum(float(r.monthly_savings.amount) for r in recs)
        if together > unshared:
            return recs
        return [self._uploads_first(model, r, together, unshared, len(recs)) for r in recs]

    def _uploads_first(self, model: ClusterModel, rec: Recommendation, together: float,
                       unshared: float, count: int) -> Recommendation:
        """A move that saves its share but not, with the cluster's other candidates, the
        uploads every broker makes once any traffic is diskless: a watch, out of the plan."""
        currency = model.cost.currency
        return replace(
            rec, category="watch",
            title=(f"Watch: {rec.title}; not yet worth it: with the cluster's {count} "
                   f"candidate(s) it saves {together:,.2f} {currency}/month, less than the "
                   f"{unshared:,.2f} {currency}/month of uploads their bytes do not pay for"),
            evidence=(*rec.evidence,
                      Evidence("lane_candidates_saving", round(together, 2),
                               f"{currency}/month"),
                      Evidence("diskless_requests_unshared", round(unshared, 2),
                               f"{currency}/month")))

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        if model.catalog.kind not in DISKLESS_KINDS:
            return
        transactional = [compile_pattern(str(p)) for p in config["transactional_topics"]]
        for topic in model.snapshot.topics:
            if topic.is_internal:
                continue
            reason = self._excluded(topic.name, topic.is_compacted, transactional,
                                    context.readers.get(topic.name, []), config)
            if reason is not None:
                yield self.skip(model, topic.name, reason)
                continue
            reads = context.readers[topic.name]
            yield Candidate(topic.name, (topic_change(model, topic.name, lane="diskless"),),
                            {"reads": reads})

    def _excluded(self, name: str, compacted: bool, transactional: Sequence[Matcher],
                  reads: Sequence[GroupRead], config: Mapping[str, Any]) -> str | None:
        if compacted:
            return "compacted: diskless topics do not compact (KIP-1150)"
        if any(p.search(name) for p in transactional):
            return "written transactionally (rules.lane.transactional_topics)"
        if not reads:
            return "no reader: nothing to judge the latency it needs by"
        return next((why for why in (why_latency_bound(r, config) for r in reads)
                     if why is not None), None)

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name = candidate.target
        reads: list[GroupRead] = candidate.facts["reads"]
        window = history.window(self.needed_days(config))
        evidence = tuple(Evidence(f"group {r.group} max_lag", round(r.max_lag_seconds or 0.0, 1),
                                  "seconds", window) for r in reads[:5])
        batch = sum(1 for r in reads if not r.live)
        floor = diskless_requests_floor_per_month(model.cost.basis)
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Move {name} to the diskless lane: its {len(reads)} reader(s) are batch "
                  f"jobs ({batch} Empty now), none within "
                  f"{config['min_reader_lag_seconds']:g} s of the head",
            evidence=(Evidence("readers", len(reads), "groups", window),
                      Evidence("lane_latency", LANE_LATENCY, "p99"),
                      # Priced by its share of bytes written; the cluster's first diskless
                      # topics cause every broker's uploads (docs/cost-model.md, "Lanes").
                      Evidence("diskless_request_floor", round(floor, 2),
                               f"{model.cost.currency}/month"), *evidence),
            current={"lane": "classic"}, proposed={"lane": "diskless"},
            risk="medium", confidence=0.6,
            change=(f"Create the topic anew with diskless.enable=true (KIP-1150; Aiven "
                    f"Inkless) and move {name}'s producers and readers to it: a topic does "
                    "not switch lanes in place. Producers and consumers set client.rack to "
                    "their zone, so they reach a broker in it."),
            alternative_group=storage_alternatives(model, name),
        )
