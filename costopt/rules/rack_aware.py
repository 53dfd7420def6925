"""Rack-aware fetching (KIP-392): which consumers still pay to read across zones, and the
setting that stops it.

Fetching from the replica in one's own zone needs two things: the brokers' rack-aware replica
selector (`replica.selector.class`, a broker restart) and `client.rack=<zone>` on each
consumer. Where the brokers run the selector (read from them at collect), the advice is per
consumer group: the groups whose reads still cross zones, each with its client setting and
its saving (what-if `client_rack` on the group). Where they do not, one cluster change: the
selector on the brokers, then `client.rack` on the groups named (what-if `rack_aware_fetch`).

Which reads cross is measured where the brokers' bytes per broker were (`cost/zones.py`), and
assumed ((Z-1)/Z of every read) elsewhere; the evidence says which, and over what span.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from costopt.base.money import Money, units_to_micros
from costopt.cost.allocation import consumer_cross_zone_measured
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import BaseRule, RuleContext, Skip, priced_fields
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.snapshot.cluster_snapshot import RACK_AWARE_SELECTOR
from costopt.whatif.changes import Change, Selector


@dataclass(frozen=True)
class GroupCrossing:
    """One group's reads and the part of them that crosses a zone, bytes/s."""

    group: str
    topics: tuple[str, ...]
    read_bytes_per_second: float
    cross_zone_bytes_per_second: float

    @property
    def cross_zone_share(self) -> float:
        if self.read_bytes_per_second <= 0:
            return 0.0
        return self.cross_zone_bytes_per_second / self.read_bytes_per_second


def group_crossings(model: ClusterModel) -> list[GroupCrossing]:
    """Per consumer group, its reads (its share of each topic's bytes out) and what of them is
    read from leaders across a zone: the topic's cross-zone share, split by reads."""
    columns = model.columns
    index = model.index
    out = np.asarray(columns["bytes_out_per_second"], dtype=np.float64)
    local = np.nan_to_num(np.asarray(columns["rack_aware_read_share"], dtype=np.float64),
                          nan=0.0)
    crossing_share = (1.0 - local) * model.cost.basis.consumer_cross_zone_share
    result = []
    for group, shares in sorted(model.read_shares.items()):
        read = cross = 0.0
        topics = []
        for topic, share in shares.items():
            i = index.get(topic)
            if i is None or share <= 0:
                continue
            topics.append(topic)
            read += share * out[i]
            cross += share * out[i] * crossing_share[i]
        if read > 0:
            result.append(GroupCrossing(group, tuple(sorted(topics)), read, cross))
    return result


def _zones(model: ClusterModel) -> str:
    racks = sorted({b.rack for b in model.snapshot.brokers if b.rack})
    return ", ".join(racks) if racks else "its zone"


def _span(model: ClusterModel) -> tuple[str, str]:
    """How consumer cross-zone bytes were obtained, and over what span."""
    minutes = model.snapshot.window_seconds / 60
    window = f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"
    if consumer_cross_zone_measured(model.snapshot):
        return "measured", (f"measured: bytes out per broker against partition leaders, "
                            f"over {window}")
    return "assumed", "assumed: (zones-1)/zones of reads, readers spread evenly"


class RackAwareFetchRule(BaseRule):
    name = "rack_aware_fetch"
    target_type = "group"
    not_on: ClassVar[dict[str, str]] = {
        "confluent_cloud": "Confluent Cloud does not bill traffic between zones separately"}
    defaults: ClassVar[dict[str, Any]] = {"min_monthly_savings": 10.0,
                                          "min_cross_zone_share": 0.1}

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        snapshot = model.snapshot
        if snapshot.zones < 2 or model.cost.basis.consumer_cross_zone_share <= 0:
            return
        crossing = [g for g in group_crossings(model)
                    if g.cross_zone_share >= config["min_cross_zone_share"]]
        # Decided at collect (`collect.rack_aware_fetch`): the configuration's override, else
        # the brokers' replica.selector.class as read; the cost model prices by the same.
        if not snapshot.rack_aware_fetch:
            # The brokers cannot serve a follower read yet: one cluster change.
            yield Candidate(model.cluster, (Change(selector=Selector(cluster=model.cluster),
                                                   rack_aware_fetch=True),),
                            {"groups": crossing, "scope": "cluster"})
            return
        for group in crossing:
            yield Candidate(group.group, (Change(
                selector=Selector(cluster=model.cluster, group=group.group),
                client_rack=True),), {"groups": [group], "scope": "group"})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if pricing.savings_micros < units_to_micros(config["min_monthly_savings"]):
            return None
        groups: list[GroupCrossing] = candidate.facts["groups"]
        how, window = _span(model)
        setting = f"client.rack=<the consumer's zone: one of {_zones(model)}>"
        target_cost = Money.from_micros(model.cost.bill_total_micros, model.cost.currency)
        crossing_evidence = (
            Evidence("consumer_cross_zone_bytes_per_second",
                     round(sum(g.cross_zone_bytes_per_second for g in groups), 1), "bytes/s",
                     window),
            Evidence("consumer_read_bytes_per_second",
                     round(sum(g.read_bytes_per_second for g in groups), 1), "bytes/s",
                     window),
            Evidence("consumer_cross_zone_bytes", how, "text", window),
            Evidence("zones", model.snapshot.zones, "count"),
            Evidence("replica.selector.class", model.snapshot.replica_selector or
                     ("unknown" if model.snapshot.replica_selector is None else "not set"),
                     "text"))
        if candidate.facts["scope"] == "cluster":
            names = [g.group for g in groups]
            return Recommendation(
                cluster=model.cluster, kind=self.name, target_type="cluster",
                target=model.cluster, owner="platform",
                title="Let consumers fetch from the replica in their own zone (KIP-392): "
                      f"brokers, then {len(names)} group(s)",
                evidence=crossing_evidence,
                current={"replica.selector.class": model.snapshot.replica_selector or None,
                         "groups_crossing_zones": names},
                proposed={"replica.selector.class": RACK_AWARE_SELECTOR,
                          "client.rack": "<the consumer's zone>",
                          "groups": dict.fromkeys(names, setting)},
                risk="low", confidence=0.8,
                change=(f"brokers: replica.selector.class={RACK_AWARE_SELECTOR} (broker.rack "
                        "already set; a rolling restart); then each consumer of "
                        f"{', '.join(names) or 'every group'}: {setting}"),
                whatif=candidate.changes, target_cost=target_cost,
                **priced_fields(model, pricing))
        group = groups[0]
        return Recommendation(
            cluster=model.cluster, kind=self.name, target_type="group", target=group.group,
            owner=model.owner_of(group.topics[0]) if group.topics else "platform",
            title=f"Consumer group {group.group}: fetch from the replica in its own zone "
                  f"({group.cross_zone_share:.0%} of its reads cross zones)",
            evidence=(*crossing_evidence,
                      Evidence("topics", len(group.topics), "count")),
            current={"client.rack": None, "topics": list(group.topics)},
            proposed={"client.rack": "<the consumer's zone>"},
            risk="low", confidence=0.8,
            change=f"every consumer of group {group.group}: {setting} (the brokers already "
                   f"run {model.snapshot.replica_selector or 'a rack-aware selector'})",
            whatif=candidate.changes, target_cost=target_cost,
            **priced_fields(model, pricing))
