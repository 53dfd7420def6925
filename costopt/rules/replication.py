"""Replication: replication factor above policy (a saving), min.insync.replicas that does
not fit the replication factor, and replication factors no broker set can hold (risks)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import (
    BaseRule,
    RuleContext,
    Skip,
    bootstrap,
    kafka_configs_command,
    topic_change,
    zero,
)
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation


class ReplicationRule(BaseRule):
    name = "replication"
    not_on: ClassVar[dict[str, str]] = {
        "confluent_cloud": "Confluent Cloud sets every topic's replication (3) and "
        "min.insync.replicas (2) itself and bills stored bytes once"}
    defaults: ClassVar[dict[str, Any]] = {"max_replication_factor": 3}

    def evaluate(self, model: ClusterModel, history: History, settings: Mapping[str, Any],
                 context: RuleContext | None = None,
                 skipped: list[Skip] | None = None) -> list[Recommendation]:
        return [*super().evaluate(model, history, settings, context, skipped),
                *insync_risks(model)]

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        policy = int(config["max_replication_factor"])
        for topic in model.snapshot.topics:
            # Never below min.insync.replicas + 1: one lost replica (a broker, or a zone's)
            # must not stop acks=all writes.
            target = max(policy, topic.min_insync_replicas + 1)
            if topic.replication_factor > target and not topic.is_internal \
                    and topic.replication_factor <= len(model.snapshot.brokers):
                yield Candidate(topic.name, (topic_change(model, topic.name,
                                                          replication_factor=target),),
                                {"policy": target})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        topic = model.snapshot.topic(candidate.target)
        policy = candidate.facts["policy"]
        plan = f"reduce-rf-{topic.name}.json"
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Reduce {topic.name} replication factor {topic.replication_factor} → "
                  f"{policy}",
            evidence=(Evidence("replication_factor", topic.replication_factor, "count"),
                      Evidence("policy_max_replication_factor", policy, "count"),
                      Evidence("log_size_bytes", topic.log_size_bytes, "bytes")),
            current={"replication_factor": topic.replication_factor},
            proposed={"replication_factor": policy},
            risk="medium", confidence=0.9,
            change=(f"kafka-reassign-partitions.sh --bootstrap-server "
                    f"{shlex.quote(bootstrap(model))} --reassignment-json-file "
                    f"{shlex.quote(plan)} --execute  # plan lists {policy} replicas per "
                    "partition"),
        )


def insync_risks(model: ClusterModel) -> list[Recommendation]:
    """min.insync.replicas that stops writes on one lost replica, or lets acks=all lose data;
    and replication factors above the broker count (a snapshot Kafka would not accept: a data
    error to look into, not a plan input)."""
    out = []
    brokers = len(model.snapshot.brokers)
    for topic in model.snapshot.topics:
        rf, isr = topic.replication_factor, topic.min_insync_replicas
        if rf > brokers:
            out.append(_risk(model, topic.name, "misconfiguration", "critical",
                             f"{topic.name} has replication factor {rf} on {brokers} brokers: "
                             "Kafka cannot place that many replicas (check the snapshot)",
                             (Evidence("replication_factor", rf, "count"),
                              Evidence("brokers", brokers, "count")),
                             {"replication_factor": rf}, {"replication_factor": brokers},
                             "check the topic's assignment: "
                             f"kafka-topics.sh --describe --topic {shlex.quote(topic.name)}"))
            continue
        if topic.is_internal:
            continue
        # "high" is kept for what fails soon: every rolling restart takes a replica down, so
        # writes stop then; data acknowledged by one replica is lost only if that broker dies
        # before its followers catch up.
        if isr >= rf and rf > 1:
            problem, proposal = "one replica down stops all writes with acks=all", rf - 1
            severity = "high"
        elif isr == 1 and rf >= 3:
            problem, proposal = "acks=all can lose data acknowledged by one replica", 2
            severity = "medium"
        else:
            continue
        out.append(_risk(model, topic.name, "min_insync_replicas", severity,
                         f"Set min.insync.replicas={proposal} on {topic.name}: {problem}",
                         (Evidence("replication_factor", rf, "count"),
                          Evidence("min_insync_replicas", isr, "count")),
                         {"min.insync.replicas": isr}, {"min.insync.replicas": proposal},
                         kafka_configs_command(model, topic.name,
                                               {"min.insync.replicas": proposal})))
    return out


def _risk(model: ClusterModel, topic: str, kind: str, severity: str, title: str,
          evidence: tuple[Evidence, ...], current: dict[str, Any], proposed: dict[str, Any],
          change: str) -> Recommendation:
    return Recommendation(
        cluster=model.cluster, kind=kind, target_type="topic", target=topic,
        owner=model.owner_of(topic), title=title, evidence=evidence, current=current,
        proposed=proposed, monthly_savings=zero(model), risk="high", confidence=1.0,
        change=change, category="risk", severity=severity)  # type: ignore[arg-type]
