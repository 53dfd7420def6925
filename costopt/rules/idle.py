"""Idle topics (nothing produced and nothing consumed over the window) and abandoned consumer
groups (no members, lag only growing).

Dead-letter and retry topics are empty most of the time by design and are exempt by name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.model import ClusterModel
from costopt.rules.base import BaseRule, History, bootstrap, priced_fields, topic_change
from costopt.rules.partitions import DEFAULT_EXEMPT
from costopt.rules.pricing import Candidate, Pricing
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.snapshot.model import ConsumerGroup
from costopt.whatif.changes import Change, Selector


def deletion_alternatives(model: ClusterModel, topic: str) -> str:
    return f"{model.cluster}/{topic}/storage"


class IdleTopicRule(BaseRule):
    name = "idle_topic"
    defaults: ClassVar[dict[str, Any]] = {
        "exempt_pattern": DEFAULT_EXEMPT,
        "min_window_days": 7,
    }

    def candidates(self, model: ClusterModel, history: History,
                   config: Mapping[str, Any]) -> Iterable[Candidate]:
        exempt = re.compile(config["exempt_pattern"], re.IGNORECASE)
        max_in = history.max_by_topic("bytes_in_per_second")
        max_out = history.max_by_topic("bytes_out_per_second")
        for topic in model.snapshot.topics:
            if topic.is_internal or exempt.search(topic.name):
                continue
            produced = max(float(max_in.get(topic.name, 0.0)), topic.bytes_in_per_second)
            consumed = max(float(max_out.get(topic.name, 0.0)), topic.bytes_out_per_second)
            if produced == 0 and consumed == 0:
                yield Candidate(topic.name, (topic_change(model, topic.name,
                                                          delete_topic=True),))

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        name = candidate.target
        topic = model.snapshot.topic(name)
        long_enough = history.window_days >= config["min_window_days"]
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Delete idle topic {name}",
            evidence=(
                Evidence("max_bytes_in_per_second", 0, "bytes/s",
                         f"{history.window_days:.0f} days"),
                Evidence("max_bytes_out_per_second", 0, "bytes/s",
                         f"{history.window_days:.0f} days"),
                Evidence("partitions", topic.partitions, "count"),
                Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
            ),
            current={"exists": True, "partitions": topic.partitions},
            proposed={"exists": False},
            risk="medium",  # a producer may appear later; check with the owner first
            confidence=0.9 if long_enough else 0.4,
            change=(f"kafka-topics.sh --bootstrap-server {shlex.quote(bootstrap(model))} "
                    f"--delete --topic {shlex.quote(name)}"),
            alternative_group=deletion_alternatives(model, name),
        )


class AbandonedGroupRule(BaseRule):
    name = "abandoned_group"
    defaults: ClassVar[dict[str, Any]] = {"min_lag_days": 7}

    def candidates(self, model: ClusterModel, history: History,
                   config: Mapping[str, Any]) -> Iterable[Candidate]:
        by_group: dict[str, list[ConsumerGroup]] = {}
        for group in model.snapshot.groups:
            by_group.setdefault(group.group, []).append(group)
        for name, rows in sorted(by_group.items()):
            if any(g.members > 0 for g in rows) or any(g.state not in ("Empty", "Dead")
                                                       for g in rows):
                continue
            lag_days = max((g.lag_seconds or 0.0) for g in rows) / 86_400
            if lag_days < config["min_lag_days"]:
                continue
            change = Change(selector=Selector(cluster=model.cluster, group=name),
                            delete_group=True)
            yield Candidate(name, (change,), {"rows": rows, "lag_days": lag_days})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        rows: list[ConsumerGroup] = candidate.facts["rows"]
        name = candidate.target
        return Recommendation(
            cluster=model.cluster, kind=self.name, target_type="group",
            target=name, owner=model.owner_of(rows[0].topic),
            title=f"Delete abandoned consumer group {name}",
            evidence=(Evidence("members", 0, "count"),
                      Evidence("max_time_lag", round(candidate.facts["lag_days"], 1), "days"),
                      Evidence("topics", len(rows), "count"),
                      Evidence("lag_messages", sum(g.lag_messages for g in rows),
                               "messages")),
            current={"members": 0, "topics": sorted(g.topic for g in rows)},
            proposed={"exists": False},
            # It reads nothing, so deleting it saves no traffic; it removes lag alerts and
            # stops it from holding back retention decisions.
            risk="low", confidence=0.85,
            change=(f"kafka-consumer-groups.sh --bootstrap-server "
                    f"{shlex.quote(bootstrap(model))} --delete --group {shlex.quote(name)}"),
            whatif=candidate.changes, **priced_fields(model, pricing),
        )
