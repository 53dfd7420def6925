"""Partitions: over-partitioned topics (throughput per partition far below a target and more
partitions than the largest consumer group can use) and under-partitioned hot topics.

Kafka cannot shrink a topic's partitions in place, so shrinking is a migration to a new topic.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from costopt.rules.base import BaseRule, History, bootstrap, topic_change_savings
from costopt.rules.idle import DEFAULT_EXEMPT
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import ClusterModel

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
        # Dead-letter and retry topics mirror their source topic's partitions on purpose.
        "exempt_pattern": DEFAULT_EXEMPT,
    }

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        peak_in = history.max_by_topic("bytes_in_per_second")
        largest_group: dict[str, int] = {}
        for group in model.snapshot.groups:
            largest_group[group.topic] = max(largest_group.get(group.topic, 0), group.members)
        over: dict[str, tuple[int, float, int]] = {}
        hot: list[tuple[str, int, float]] = []
        exempt = re.compile(config["exempt_pattern"], re.IGNORECASE)
        for topic in model.snapshot.topics:
            if topic.is_internal or exempt.search(topic.name):
                continue
            peak = max(float(peak_in.get(topic.name, 0.0)), topic.bytes_in_per_second)
            members = largest_group.get(topic.name, 0)
            by_throughput = peak / config["target_bytes_per_partition"]
            proposal = nice_at_least(max(by_throughput, members, config["min_partitions"]))
            if topic.partitions >= config["min_ratio"] * proposal and peak > 0:
                over[topic.name] = (proposal, peak, members)
            elif peak / topic.partitions > config["hot_bytes_per_partition"]:
                hot.append((topic.name, nice_at_least(by_throughput), peak))
        changes = {name: Change(selector=Selector(topic=name), partitions=proposal)
                   for name, (proposal, _, _) in over.items()}
        changes.update({name: Change(selector=Selector(topic=name), partitions=proposal)
                        for name, proposal, _ in hot})
        savings = topic_change_savings(model, changes)
        out = []
        for name, (proposal, peak, members) in over.items():
            topic = model.snapshot.topic(name)
            new_topic = f"{name}.p{proposal}"
            server = shlex.quote(bootstrap(model))
            out.append(self.topic_recommendation(
                model, name,
                title=f"Migrate {name} from {topic.partitions} to {proposal} partitions",
                evidence=(
                    Evidence("partitions", topic.partitions, "count"),
                    Evidence("peak_bytes_in_per_second", round(peak, 1), "bytes/s",
                             f"{history.window_days:.0f} days"),
                    Evidence("bytes_in_per_second_per_partition",
                             round(peak / topic.partitions, 1), "bytes/s"),
                    Evidence("largest_consumer_group_members", members, "count"),
                ),
                current={"partitions": topic.partitions},
                proposed={"partitions": proposal},
                monthly_savings=savings[name],
                risk="medium",  # a migration: producers and consumers move to a new topic
                confidence=0.8,
                change=(f"kafka-topics.sh --bootstrap-server {server} --create --topic "
                        f"{shlex.quote(new_topic)} --partitions {proposal} --replication-factor "
                        f"{topic.replication_factor}  # then move producers, drain consumers, "
                        f"delete {name} (partitions cannot shrink in place)"),
                whatif=(changes[name],),
            ))
        for name, proposal, peak in hot:
            topic = model.snapshot.topic(name)
            out.append(self.topic_recommendation(
                model, name,
                title=f"Add partitions to hot topic {name}: {topic.partitions} → {proposal}",
                evidence=(Evidence("partitions", topic.partitions, "count"),
                          Evidence("bytes_in_per_second_per_partition",
                                   round(peak / topic.partitions, 1), "bytes/s")),
                current={"partitions": topic.partitions}, proposed={"partitions": proposal},
                monthly_savings=savings[name], risk="medium", confidence=0.7,
                change=(f"kafka-topics.sh --bootstrap-server {shlex.quote(bootstrap(model))} "
                        f"--alter --topic {shlex.quote(name)} --partitions {proposal}  "
                        "# keyed records change partition"),
                whatif=(changes[name],),
            ))
        return out
