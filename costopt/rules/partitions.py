"""Partitions: over-partitioned topics (throughput per partition far below a target and more
partitions than the largest consumer group can use) and under-partitioned hot topics.

Kafka cannot shrink a topic's partitions in place, so shrinking is a migration to a new topic.
A hot topic's extra partitions are a risk finding: they cost what they cost (its
`monthly_savings`, like every recommendation's, is its what-if's: that cost, negated).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import BaseRule, RuleContext, Skip, bootstrap, topic_change
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation

NICE_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def nice_at_least(count: float) -> int:
    for nice in NICE_COUNTS:
        if nice >= count:
            return nice
    return math.ceil(count)


class PartitionRule(BaseRule):
    name = "partitions"
    defaults: ClassVar[dict[str, Any]] = {
        "target_bytes_per_partition": 1_000_000,  # bytes/s a partition comfortably carries
        "hot_bytes_per_partition": 10_000_000,  # above this a topic is under-partitioned
        "min_partitions": 3,
        "min_ratio": 2.0,  # fire when partitions ≥ min_ratio × proposal
        "min_window_days": 7,  # a weekly peak must have had its chance to show up
    }
    # A migration deletes the old topic once drained: with thin evidence, only watch.
    destructive = True

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        peak_in = history.max_by_topic("bytes_in_per_second").to_dict()
        largest_group: dict[str, int] = {}
        for read in context.group_reads:  # batch readers count with their busiest run
            largest_group[read.topic] = max(largest_group.get(read.topic, 0), read.max_members)
        for topic in model.snapshot.topics:
            if topic.is_internal:
                continue
            peak = max(float(peak_in.get(topic.name, 0.0)), topic.bytes_in_per_second)
            members = largest_group.get(topic.name, 0)
            by_throughput = peak / config["target_bytes_per_partition"]
            proposal = nice_at_least(max(by_throughput, members, config["min_partitions"]))
            if topic.partitions >= config["min_ratio"] * proposal and peak > 0:
                if any(r.max_members == 0 for r in context.readers.get(topic.name, [])):
                    yield self.skip(model, topic.name, "a reader's parallelism is unknown (its "
                                    "group has been between runs in every snapshot)")
                    continue
                yield Candidate(topic.name, (topic_change(model, topic.name,
                                                          partitions=proposal),),
                                {"hot": False, "proposal": proposal, "peak": peak,
                                 "members": members})
            elif peak / topic.partitions > config["hot_bytes_per_partition"]:
                hot = nice_at_least(by_throughput)
                yield Candidate(topic.name, (topic_change(model, topic.name, partitions=hot),),
                                {"hot": True, "proposal": hot, "peak": peak})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        name, facts = candidate.target, candidate.facts
        topic = model.snapshot.topic(name)
        proposal, peak = facts["proposal"], facts["peak"]
        if facts["hot"]:
            return self.topic_recommendation(
                model, candidate, pricing, category="risk", severity="medium",
                title=f"Add partitions to hot topic {name}: {topic.partitions} → {proposal}",
                evidence=(Evidence("partitions", topic.partitions, "count"),
                          Evidence("bytes_in_per_second_per_partition",
                                   round(peak / topic.partitions, 1), "bytes/s",
                                   history.window(self.needed_days(config)))),
                current={"partitions": topic.partitions}, proposed={"partitions": proposal},
                risk="medium", confidence=0.7,
                change=(f"kafka-topics.sh --bootstrap-server {shlex.quote(bootstrap(model))} "
                        f"--alter --topic {shlex.quote(name)} --partitions {proposal}  "
                        "# keyed records change partition"),
            )
        new_topic = f"{name}.p{proposal}"
        server = shlex.quote(bootstrap(model))
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Migrate {name} from {topic.partitions} to {proposal} partitions",
            evidence=(
                Evidence("partitions", topic.partitions, "count"),
                Evidence("peak_bytes_in_per_second", round(peak, 1), "bytes/s",
                         history.window(self.needed_days(config))),
                Evidence("bytes_in_per_second_per_partition",
                         round(peak / topic.partitions, 1), "bytes/s"),
                Evidence("largest_consumer_group_members", facts["members"], "count"),
            ),
            current={"partitions": topic.partitions},
            proposed={"partitions": proposal},
            risk="medium",  # a migration: producers and consumers move to a new topic
            confidence=0.8,
            change=(f"kafka-topics.sh --bootstrap-server {server} --create --topic "
                    f"{shlex.quote(new_topic)} --partitions {proposal} --replication-factor "
                    f"{topic.replication_factor}  # then move producers, drain consumers, "
                    f"delete {name} (partitions cannot shrink in place)"),
        )
