"""Cluster-level rules: broker sizing from headroom in disk, CPU and partitions, and
rack-aware follower fetching (KIP-392) where consumers pay for cross-zone reads."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from costopt.cost.allocation import project
from costopt.money import Money
from costopt.rules.base import BaseRule, History
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import ClusterModel, project_cluster


def required_brokers(model: ClusterModel, config: Mapping[str, Any]) -> dict[str, int]:
    """Brokers needed per resource at the target utilisation, rounded up to whole zones."""
    brokers = model.snapshot.brokers
    zones = model.snapshot.zones
    capacity_each = max(b.disk_capacity_bytes for b in brokers)
    used = sum(b.disk_used_bytes or 0 for b in brokers)
    cpu = sum(b.cpu_utilisation or 0.0 for b in brokers)
    replicas = sum(t.partitions * t.replication_factor for t in model.snapshot.topics)
    max_rf = max((t.replication_factor for t in model.snapshot.topics), default=1)
    needs = {
        "disk": math.ceil(used / (capacity_each * config["target_disk_fill"])),
        "cpu": math.ceil(cpu / config["target_cpu"]),
        "partitions": math.ceil(replicas / config["max_partition_replicas_per_broker"]),
        "replication": max_rf,
    }
    return {k: max(1, math.ceil(v / zones) * zones) for k, v in needs.items()}


class BrokerSizingRule(BaseRule):
    name = "broker_sizing"
    defaults: ClassVar[dict[str, Any]] = {
        "target_disk_fill": 0.6,
        "target_cpu": 0.6,
        "max_partition_replicas_per_broker": 4000,
    }

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        brokers = model.snapshot.brokers
        if not brokers:
            return []
        needs = required_brokers(model, config)
        proposal = max(needs.values())
        current = len(brokers)
        if proposal == current:
            return []
        change = Change(selector=Selector(cluster=model.snapshot.cluster),
                        broker_count=proposal)
        projected, _, _ = project_cluster(model, [change])
        saving = Money.from_micros(sum(model.cost.bill_micros.values())
                                   - sum(projected.bill_micros.values()), model.cost.currency)
        binding = max(needs, key=lambda k: needs[k])
        used = sum(b.disk_used_bytes or 0 for b in brokers)
        capacity = sum(b.disk_capacity_bytes for b in brokers)
        cpu = sum(b.cpu_utilisation or 0.0 for b in brokers) / current
        direction = "Remove" if proposal < current else "Add"
        return [Recommendation(
            cluster=model.snapshot.cluster, kind=self.name, target_type="cluster",
            target=model.snapshot.cluster, owner="platform",
            title=f"{direction} brokers: {current} → {proposal} (bound by {binding})",
            evidence=(Evidence("brokers", current, "count"),
                      Evidence("disk_used_fraction", round(used / capacity, 3), "ratio"),
                      Evidence("mean_cpu_utilisation", round(cpu, 3), "ratio"),
                      *(Evidence(f"brokers_needed_for_{k}", v, "count")
                        for k, v in sorted(needs.items()))),
            current={"brokers": current}, proposed={"brokers": proposal},
            monthly_savings=saving, risk="medium" if proposal < current else "low",
            confidence=0.7,
            change=(f"cruise-control remove_broker (or kafka-reassign-partitions.sh) to drain "
                    f"{current - proposal} broker(s), then decommission them"
                    if proposal < current else
                    f"add {proposal - current} broker(s), then rebalance "
                    "(cruise-control add_broker or kafka-reassign-partitions.sh)"),
            whatif=(change,),
        )]


class RackAwareFetchRule(BaseRule):
    name = "rack_aware_fetch"
    defaults: ClassVar[dict[str, Any]] = {"min_monthly_savings": 10.0}

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        if model.snapshot.rack_aware_fetch or model.snapshot.zones <= 1:
            return []
        basis = replace(model.cost.basis, consumer_cross_zone_share=0.0)
        projected = project(model.cost, model.frame, basis)
        saving = Money.from_micros(sum(model.cost.bill_micros.values())
                                   - sum(projected.bill_micros.values()), model.cost.currency)
        if saving.amount < config["min_monthly_savings"]:
            return []
        consumer = Money.from_micros(model.cost.bill_micros["network_consumer"],
                                     model.cost.currency)
        return [Recommendation(
            cluster=model.snapshot.cluster, kind=self.name, target_type="cluster",
            target=model.snapshot.cluster, owner="platform",
            title="Let consumers fetch from the replica in their own zone (KIP-392)",
            evidence=(Evidence("zones", model.snapshot.zones, "count"),
                      Evidence("cross_zone_client_share",
                               round(model.cost.basis.client_cross_zone_share, 3), "ratio"),
                      Evidence("consumer_network_cost", str(consumer.rounded()),
                               f"{consumer.currency}/month")),
            current={"replica.selector.class": None},
            proposed={"replica.selector.class":
                      "org.apache.kafka.common.replica.RackAwareReplicaSelector",
                      "client.rack": "<the consumer's zone>"},
            monthly_savings=saving, risk="low", confidence=0.8,
            change=("brokers: replica.selector.class="
                    "org.apache.kafka.common.replica.RackAwareReplicaSelector (broker.rack "
                    "already set); every consumer: client.rack=<its availability zone>"),
        )]
