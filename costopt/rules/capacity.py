"""Cluster-level rules: broker and disk sizing (`rules/sizing.py`). Rack-aware fetching
(KIP-392) is advised per consumer group in `rules/rack_aware.py`.

Sizing that saves money is a `broker_sizing` saving. Sizing that costs money (the cluster
needs more than it has) is a `capacity` risk finding with its monthly cost and runway: a risk,
never a saving, though its `monthly_savings` is its what-if's (that cost, negated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.base.money import Money
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import GIB, BaseRule, RuleContext, Skip, priced_fields
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.rules.sizing import DEFAULTS, Sizing, runway_days, size_cluster
from costopt.whatif.changes import Change, Selector


def sizing_change(model: ClusterModel, sizing: Sizing) -> Change:
    return Change(selector=Selector(cluster=model.cluster),
                  broker_count=sizing.proposed_brokers,
                  broker_disk_bytes=(sizing.proposed_disk_bytes
                                     if sizing.proposed_disk_bytes != sizing.current_disk_bytes
                                     else None))


def _gib(value: float) -> str:
    return f"{value / GIB:,.0f} GiB"


class BrokerSizingRule(BaseRule):
    name = "broker_sizing"
    target_type = "cluster"
    not_on: ClassVar[dict[str, str]] = {
        "confluent_cloud": "Confluent Cloud runs the brokers and disks: a cluster is billed by "
        "eCKUs its load needs (or CKUs it is provisioned with), never by broker or disk"}
    destructive = True  # removing brokers on a week of evidence is not advice
    defaults: ClassVar[dict[str, Any]] = {**DEFAULTS, "min_window_days": 7}

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        if not model.snapshot.brokers:
            return
        sizing = size_cluster(model, history, config)
        if sizing.changed:
            yield Candidate(model.cluster, (sizing_change(model, sizing),), {"sizing": sizing})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        sizing: Sizing = candidate.facts["sizing"]
        if pricing.delta_micros == 0:
            return None
        current, proposal = sizing.current_brokers, sizing.proposed_brokers
        runway = runway_days(sizing, config)
        evidence = (
            Evidence("brokers", current, "count"),
            Evidence("disk_per_broker", sizing.current_disk_bytes, "bytes"),
            Evidence("disk_needed_at_horizon", round(sizing.disk_need_bytes), "bytes",
                     f"p{config['percentile'] * 100:.0f} of "
                     f"{history.window(self.needed_days(config))}, grown "
                     f"{config['horizon_days']} d"),
            Evidence("disk_fill_after_losing_a_zone",
                     round(sizing.disk_fill_after_loss(config), 3), "ratio",
                     f"at {config['horizon_days']} d"),
            *(Evidence(f"brokers_needed_for_{k}", v, "count")
              for k, v in sorted(sizing.brokers_needed.items())),
            Evidence("runway", "beyond 10 years" if runway is None else runway, "days"),
        )
        disks = (f", disks {_gib(sizing.current_disk_bytes)} → "
                 f"{_gib(sizing.proposed_disk_bytes)}"
                 if sizing.proposed_disk_bytes != sizing.current_disk_bytes else "")
        common = {"cluster": model.cluster, "target_type": "cluster", "target": model.cluster,
                  "owner": "platform", "evidence": evidence,
                  "current": {"brokers": current, "disk_bytes": sizing.current_disk_bytes},
                  "proposed": {"brokers": proposal, "disk_bytes": sizing.proposed_disk_bytes},
                  "whatif": candidate.changes,
                  "target_cost": Money.from_micros(model.cost.bill_total_micros,
                                                   model.cost.currency),
                  **priced_fields(model, pricing)}
        if pricing.delta_micros > 0:
            return Recommendation(
                kind="capacity", category="risk",
                severity="critical" if runway == 0 else "high" if runway is not None
                and runway < config["horizon_days"] else "medium",
                title=f"Capacity: {current} → {proposal} brokers{disks} needed within "
                      f"{config['horizon_days']} d (bound by {sizing.binding})",
                risk="low", confidence=0.7,
                change=f"add {proposal - current} broker(s) or grow disks, then rebalance "
                       "(cruise-control add_broker or kafka-reassign-partitions.sh)",
                **common)
        direction = "Remove brokers" if proposal < current else "Resize disks"
        return Recommendation(
            kind=self.name,
            title=f"{direction}: {current} → {proposal} brokers{disks} (bound by "
                  f"{sizing.binding})",
            risk="medium", confidence=0.7,
            change=(f"cruise-control remove_broker (or kafka-reassign-partitions.sh) to drain "
                    f"{current - proposal} broker(s), then decommission them"
                    if proposal < current else
                    "replace brokers one at a time with the smaller volume (drain, swap the "
                    "volume, let it catch up)") + (
                    "; then replace each remaining broker's volume with the smaller size, one "
                    "at a time" if disks and proposal < current else ""),
            **common)
