"""Realized savings: did an accepted recommendation get applied, and what does it save?

A later snapshot tells whether the change was applied (the topic's config now has the
proposed value, the topic or group is gone, the broker count moved). What it saves is priced
at **equal traffic**: the configuration observed now, applied to the snapshot the
recommendation was accepted on, through the what-if engine. Comparing this month's bill with
last month's would count growth (or a quiet week) as savings or losses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from costopt.base.compression_ratios import CODECS
from costopt.base.money import Money
from costopt.cost.allocation import consumer_cross_zone_measured, project, rack_aware_read_share
from costopt.cost.cluster_model import ClusterModel
from costopt.snapshot.cluster_snapshot import ClusterSnapshot, Topic
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import run_whatif

# Proposed keys of topic recommendations → the snapshot's topic attribute that shows them.
TOPIC_KEYS = {"retention.ms": "retention_ms", "partitions": "partitions",
              "replication_factor": "replication_factor", "compression.type": "compression_type",
              "remote.storage.enable": "remote_storage_enable",
              "local.retention.ms": "local_retention_ms",
              "min.insync.replicas": "min_insync_replicas"}


@dataclass(frozen=True)
class Realized:
    applied: bool | None  # None: a later snapshot cannot show it (producer-side settings)
    observed: str  # what the latest snapshot shows
    observed_at: datetime | None
    predicted: Money
    realized: Money | None  # at equal traffic; None until applied

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "observed": self.observed,
                "observed_at": self.observed_at.isoformat() if self.observed_at else None,
                "predicted_monthly_savings": str(self.predicted.rounded()),
                "realized_monthly_savings": (str(self.realized.rounded())
                                             if self.realized is not None else None),
                "currency": self.predicted.currency, "period": "month",
                "basis": "the configuration observed now, priced on the traffic of the "
                         "snapshot it was accepted on"}


def _topic_changes(cluster: str, name: str, old: Topic, new: Topic | None) -> list[Change]:
    """What changed on a topic between two snapshots, as what-if changes."""
    selector = Selector(cluster=cluster, topic=name)
    if new is None:
        return [Change(selector=selector, delete_topic=True)]
    values: dict[str, Any] = {}
    if new.retention_ms != old.retention_ms:
        values["retention_ms"] = new.retention_ms
    if new.partitions != old.partitions:
        values["partitions"] = new.partitions
    if new.replication_factor != old.replication_factor:
        values["replication_factor"] = new.replication_factor
    if new.compression_type != old.compression_type and new.compression_type in CODECS:
        values["compression"] = new.compression_type
    if new.remote_storage_enable != old.remote_storage_enable:
        values["tiered_storage"] = new.remote_storage_enable
        if new.local_retention_ms > 0:
            values["local_retention_ms"] = new.local_retention_ms
    return [Change(selector=selector, **values)] if values else []


def _observe(rec: Mapping[str, Any], old: ClusterSnapshot, new: ClusterSnapshot
             ) -> tuple[bool | None, str, list[Change]]:
    proposed: Mapping[str, Any] = rec["proposed"]
    target, cluster = rec["target"], rec["cluster"]
    if rec["target_type"] == "topic":
        try:
            before = old.topic(target)
        except KeyError:
            return None, f"topic {target} was not in the snapshot it was accepted on", []
        after = next((t for t in new.topics if t.name == target), None)
        changes = _topic_changes(cluster, target, before, after)
        if proposed.get("exists") is False:
            return after is None, "the topic is gone" if after is None else \
                "the topic still exists", changes
        if after is None:
            return False, "the topic is gone (not what was proposed)", changes
        keys = [k for k in proposed if k in TOPIC_KEYS]
        if not keys:
            return None, "not visible in topic configs (a client-side change)", changes
        shown = {k: getattr(after, TOPIC_KEYS[k]) for k in keys}
        applied = all(str(shown[k]).lower() == str(proposed[k]).lower() for k in keys)
        return applied, ", ".join(f"{k}={v}" for k, v in shown.items()), changes
    if rec["target_type"] == "group":
        gone = not any(g.group == target for g in new.groups)
        change = Change(selector=Selector(cluster=cluster, group=target), delete_group=True)
        return gone, "the group is gone" if gone else "the group still exists", \
            [change] if gone else []
    brokers = len(new.brokers)
    changes = []
    if "brokers" in proposed:
        disk = max(b.disk_capacity_bytes for b in new.brokers) if new.brokers else None
        old_disk = max(b.disk_capacity_bytes for b in old.brokers) if old.brokers else None
        if brokers != len(old.brokers) or disk != old_disk:
            changes.append(Change(selector=Selector(cluster=cluster), broker_count=brokers,
                                  broker_disk_bytes=disk if disk != old_disk else None))
        return brokers == proposed["brokers"], f"{brokers} brokers", changes
    if "replica.selector.class" in proposed:
        if new.rack_aware_fetch and not old.rack_aware_fetch:
            changes.append(Change(selector=Selector(cluster=cluster), rack_aware_fetch=True))
        return new.rack_aware_fetch, "rack-aware fetching " + (
            "on" if new.rack_aware_fetch else "off"), changes
    return None, "not visible in a snapshot", changes


def _in_zone_now(model: ClusterModel, latest: ClusterSnapshot) -> Money:
    """What reading in-zone as measured now saves on the old snapshot's traffic: each topic's
    measured in-zone share of reads (`cost/zones.py`) replaces the old one, every other read
    crossing with the client share, priced on the old bytes out."""
    now = dict(zip((t.name for t in latest.topics), rack_aware_read_share(latest),
                   strict=True))
    columns = dict(model.cost.columns)
    old = np.asarray(columns["rack_aware_read_share"], dtype=np.float64)
    columns["rack_aware_read_share"] = np.array(
        [now[str(n)] if not np.isnan(now.get(str(n), np.nan)) else o
         for n, o in zip(columns["topic"], old, strict=True)], dtype=np.float64)
    basis = replace(model.cost.basis,
                    consumer_cross_zone_share=model.cost.basis.client_cross_zone_share)
    projected = project(model.cost, columns, basis)
    return Money.from_micros(model.cost.bill_total_micros - projected.bill_total_micros,
                             model.cost.currency)


def _observe_in_zone(rec: Mapping[str, Any], latest: ClusterSnapshot
                     ) -> tuple[bool, str]:
    """A rack-aware recommendation is applied when its readers now read in their zone: the
    brokers run the selector, and the group's topics (a group's recommendation) are read
    in-zone for the most part, as measured."""
    if rec["target_type"] != "group":
        return latest.rack_aware_fetch, "rack-aware fetching " + (
            "on" if latest.rack_aware_fetch else "off")
    topics = set(rec["current"].get("topics", []))
    shares = {t.name: (t.rack_aware_read_bytes_per_second or 0.0) / t.bytes_out_per_second
              for t in latest.topics if t.name in topics and t.bytes_out_per_second > 0}
    applied = bool(shares) and min(shares.values()) >= 0.5
    return applied, "read in-zone: " + ", ".join(f"{t} {s:.0%}" for t, s in sorted(
        shares.items()))


def realized_savings(rec: Mapping[str, Any], accepted_on: ClusterModel,
                     latest: ClusterSnapshot) -> Realized:
    """`rec` as stored when accepted (`Recommendation.to_dict()`); `accepted_on` the model of
    the snapshot it was accepted on; `latest` the newest snapshot of its cluster. Rack-aware
    fetching, where the latest snapshot measured in-zone reads, is realized as measured: the
    in-zone reads seen now, priced on the old traffic."""
    currency = accepted_on.cost.currency
    predicted = Money(Decimal(str(rec["monthly_savings"])), currency)
    if rec.get("kind") == "rack_aware_fetch" and consumer_cross_zone_measured(latest):
        done, seen = _observe_in_zone(rec, latest)
        return Realized(done, seen, latest.taken_at if done else None, predicted,
                        _in_zone_now(accepted_on, latest) if done else None)
    applied, observed, changes = _observe(rec, accepted_on.snapshot, latest)
    realized = None
    if applied and changes:
        result = run_whatif({accepted_on.cluster: accepted_on}, changes)
        realized = result.baseline - result.projected
    elif applied:
        realized = Money.zero(currency)
    return Realized(applied, observed, latest.taken_at if applied else None, predicted,
                    realized)


def realized_for_record(store: Any, settings: Any, record: Mapping[str, Any],
                        latest: ClusterSnapshot) -> Realized | None:
    """The realized saving of a stored, accepted decision (`StatusStore.statuses()` row), or
    None where it was accepted before costopt kept the snapshot it was accepted on."""
    from costopt.analyze.analysis import catalog_for, cluster_model, owner_attribution
    from costopt.rules.history import History

    snapshot_id = record.get("accepted_snapshot_id")
    if snapshot_id is None:
        return None
    stored = store.snapshot(int(snapshot_id))
    rec = record["recommendation"]
    estimates = (store.estimates_of(rec["cluster"], topic=rec["target"])
                 if rec.get("target_type") == "topic" else {})
    model = cluster_model(stored, catalog_for(stored, settings), History.empty(), estimates,
                          settings, owner_attribution(settings))
    return realized_savings(rec, model, latest)
