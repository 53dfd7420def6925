"""Idle topics (nothing produced and nothing consumed over at least `min_idle_days`) and
abandoned consumer groups (no members, no commit for `abandoned_after_days`).

A topic that moved no bytes is still not idle when it is state: compacted (services re-read
it from the start), read by a group that will come back, or kept a year or more on purpose
(`rules/protected.py`). Platform topics (Connect, Schema Registry, Streams...) are protected
by name. With less history than the rule needs, a deletion is only a "watch" item.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import BaseRule, RuleContext, Skip, bootstrap, priced_fields, topic_change
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.protected import deletion_guard
from costopt.rules.readers import ABANDONED_AFTER_DAYS, GroupRead
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector


def deletion_alternatives(model: ClusterModel, topic: str) -> str:
    return f"{model.cluster}/{topic}/storage"


class IdleTopicRule(BaseRule):
    name = "idle_topic"
    destructive = True
    defaults: ClassVar[dict[str, Any]] = {"min_idle_days": 7}

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_idle_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        max_in = history.max_by_topic("bytes_in_per_second").to_dict()
        max_out = history.max_by_topic("bytes_out_per_second").to_dict()
        for topic in model.snapshot.topics:
            produced = max(float(max_in.get(topic.name, 0.0)), topic.bytes_in_per_second)
            consumed = max(float(max_out.get(topic.name, 0.0)), topic.bytes_out_per_second)
            if produced > 0 or consumed > 0:
                continue
            guard = deletion_guard(topic, bool(context.readers.get(topic.name)))
            if guard is not None:
                yield self.skip(model, topic.name, guard)
                continue
            yield Candidate(topic.name, (topic_change(model, topic.name, delete_topic=True),))

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        name = candidate.target
        topic = model.snapshot.topic(name)
        window = history.window(self.needed_days(config))
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Delete idle topic {name}",
            evidence=(
                Evidence("max_bytes_in_per_second", 0, "bytes/s", window),
                Evidence("max_bytes_out_per_second", 0, "bytes/s", window),
                Evidence("readers", 0, "count", window),
                Evidence("partitions", topic.partitions, "count"),
                Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
            ),
            current={"exists": True, "partitions": topic.partitions},
            proposed={"exists": False},
            risk="medium",  # a producer may appear later; check with the owner first
            confidence=0.9,
            change=(f"kafka-topics.sh --bootstrap-server {shlex.quote(bootstrap(model))} "
                    f"--delete --topic {shlex.quote(name)}"),
            alternative_group=deletion_alternatives(model, name),
        )


class AbandonedGroupRule(BaseRule):
    name = "abandoned_group"
    target_type = "group"
    destructive = True
    defaults: ClassVar[dict[str, Any]] = {"abandoned_after_days": ABANDONED_AFTER_DAYS}

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["abandoned_after_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        by_group: dict[str, list[GroupRead]] = {}
        for read in context.group_reads:
            by_group.setdefault(read.group, []).append(read)
        for name, reads in sorted(by_group.items()):
            if reads[0].abandoned:
                change = Change(selector=Selector(cluster=model.cluster, group=name),
                                delete_group=True)
                yield Candidate(name, (change,), {"reads": reads})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        reads: list[GroupRead] = candidate.facts["reads"]
        name = candidate.target
        window = history.window(self.needed_days(config))
        lag_days = max((r.lag_seconds or 0.0) for r in reads) / 86_400
        last = reads[0].last_commit_at
        return Recommendation(
            cluster=model.cluster, kind=self.name, target_type="group",
            target=name, owner=model.owner_of(reads[0].topic),
            title=f"Delete abandoned consumer group {name}",
            evidence=(Evidence("members", 0, "count", window),
                      Evidence("last_commit", last.isoformat() if last else "never seen",
                               "time", window),
                      Evidence("why", reads[0].why, "text", window),
                      Evidence("time_lag", round(lag_days * 86_400, 1), "seconds"),
                      Evidence("topics", len(reads), "count"),
                      ),
            current={"members": 0, "topics": sorted(r.topic for r in reads)},
            proposed={"exists": False},
            # It reads nothing, so deleting it saves no traffic; it removes lag alerts and
            # stops it from holding back retention decisions.
            risk="low", confidence=0.85,
            change=(f"kafka-consumer-groups.sh --bootstrap-server "
                    f"{shlex.quote(bootstrap(model))} --delete --group {shlex.quote(name)}"),
            whatif=candidate.changes, **priced_fields(model, pricing),
        )
