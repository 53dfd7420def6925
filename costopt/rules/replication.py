"""Replication: replication factor above policy (a saving), and min.insync.replicas that does
not fit the replication factor (a risk finding, no saving)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from costopt.rules.base import (
    BaseRule,
    History,
    bootstrap,
    kafka_configs_command,
    topic_change_savings,
    zero,
)
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import ClusterModel


class ReplicationRule(BaseRule):
    name = "replication"
    defaults: ClassVar[dict[str, Any]] = {"max_replication_factor": 3}

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        policy = int(config["max_replication_factor"])
        above = [t for t in model.snapshot.topics
                 if t.replication_factor > policy and not t.is_internal]
        changes = {t.name: Change(selector=Selector(topic=t.name), replication_factor=policy)
                   for t in above}
        savings = topic_change_savings(model, changes)
        out = []
        for topic in above:
            plan = f"reduce-rf-{topic.name}.json"
            out.append(self.topic_recommendation(
                model, topic.name,
                title=f"Reduce {topic.name} replication factor {topic.replication_factor} → "
                      f"{policy}",
                evidence=(Evidence("replication_factor", topic.replication_factor, "count"),
                          Evidence("policy_max_replication_factor", policy, "count"),
                          Evidence("log_size_bytes", topic.log_size_bytes, "bytes")),
                current={"replication_factor": topic.replication_factor},
                proposed={"replication_factor": policy},
                monthly_savings=savings[topic.name], risk="medium", confidence=0.9,
                change=(f"kafka-reassign-partitions.sh --bootstrap-server "
                        f"{shlex.quote(bootstrap(model))} --reassignment-json-file "
                        f"{shlex.quote(plan)} --execute  # plan lists {policy} replicas per "
                        "partition"),
                whatif=(changes[topic.name],),
            ))
        for topic in model.snapshot.topics:
            if topic.is_internal:
                continue
            rf, isr = topic.replication_factor, topic.min_insync_replicas
            if isr >= rf and rf > 1:
                problem, proposal = "one replica down stops all writes with acks=all", rf - 1
            elif isr == 1 and rf >= 3:
                problem, proposal = "acks=all can lose data acknowledged by one replica", 2
            else:
                continue
            out.append(self.topic_recommendation(
                model, topic.name, kind="min_insync_replicas",
                title=f"Set min.insync.replicas={proposal} on {topic.name}: {problem}",
                evidence=(Evidence("replication_factor", rf, "count"),
                          Evidence("min_insync_replicas", isr, "count")),
                current={"min.insync.replicas": isr}, proposed={"min.insync.replicas": proposal},
                monthly_savings=zero(model), risk="high", confidence=1.0,
                change=kafka_configs_command(model, topic.name,
                                             {"min.insync.replicas": proposal}),
            ))
        return out
