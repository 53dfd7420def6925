"""Retention: data kept far longer than any reader needs it.

What a topic needs is its slowest reader's largest time lag over the window, plus a margin.
Readers are every group that will come back (`rules/readers.py`): a nightly job's group,
Empty between runs, counts; an abandoned one does not. Compacted topics are left alone
(retention does not bound a compacted log), as are topics kept a year or more on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from costopt.cost import formulas
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import (
    BaseRule,
    RuleContext,
    Skip,
    kafka_configs_command,
    snapshot_window,
    topic_change,
    worth_recommending,
)
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.protected import LONG_RETENTION_MS
from costopt.rules.readers import slowest_reader_lag_seconds
from costopt.rules.recommendation import Evidence, Recommendation

HOUR_MS = 3_600_000


def storage_alternatives(model: ClusterModel, topic: str) -> str:
    """Retention and tiering both answer "this topic keeps too much on the brokers"."""
    return f"{model.cluster}/{topic}/storage"


CAPACITY_BASIS = "capacity_freed_basis"
STEADY_STATE = ("steady state: the log has run for its retention, so the plan's capacity step "
                "counts what it frees at steady state")
NOT_YET = ("now: the log has not yet run for its retention, so the plan's capacity step counts "
           "only what it frees now")


def with_freed_capacity(model: ClusterModel, rec: Recommendation, old_ms: float,
                        new_ms: float) -> Recommendation:
    """`rec` (a cut of its topic's time limit from `old_ms` to `new_ms` on broker disks) with
    both figures of the disk it frees, every replica: at steady state (the difference of the
    retained-bytes estimate before and after, capped by retention.bytes) and now (the bytes
    older than the new limit), and which of them its what-if, and so the plan, counts."""
    row = model.index[rec.target]
    columns = model.columns

    def one(name: str) -> np.ndarray:
        return np.asarray(columns[name][row:row + 1], dtype=np.float64)

    _, steady, now, full = formulas.log_bytes_after_retention_cut(
        one("log_size_bytes") + one("remote_log_size_bytes"), one("bytes_in_per_second"),
        np.array([old_ms]), np.array([new_ms]), one("retention_bytes"), one("partitions"))
    replicas = float(one("replication_factor")[0])
    freed = {**(rec.capacity_freed or {}),
             "disk_bytes_steady_state": round(float(steady[0]) * replicas),
             "disk_bytes_now": round(float(now[0]) * replicas)}
    basis = Evidence(CAPACITY_BASIS, STEADY_STATE if bool(full[0]) else NOT_YET, "basis")
    return replace(rec, capacity_freed=freed, evidence=(*rec.evidence, basis))


class RetentionRule(BaseRule):
    name = "retention"
    destructive = True  # a cut deletes data a late reader might have needed
    defaults: ClassVar[dict[str, Any]] = {
        "floor_hours": 24,  # never propose less than this
        "margin": 0.5,  # proposed = slowest reader's largest lag × (1 + margin)
        "min_reduction": 0.5,  # fire only when the proposal keeps at most half
        "min_window_days": 7,  # a weekly batch reader must have had its chance to show up
        "min_monthly_savings": 1.0,
        "min_disk_freed_gib": 1.0,
    }

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        floor_ms = int(config["floor_hours"] * HOUR_MS)
        for topic in model.snapshot.topics:
            if topic.is_internal or topic.is_compacted or topic.retention_ms < 0:
                continue
            readers = context.readers.get(topic.name)
            if not readers or topic.bytes_in_per_second <= 0:
                continue  # unread or idle topics are other rules' business
            lag = slowest_reader_lag_seconds(readers)
            if lag is None:
                yield self.skip(model, topic.name, "a reader's lag is unknown: nothing can be "
                                "cut below it")
                continue
            proposed = max(floor_ms, math.ceil(lag * 1000 * (1 + config["margin"]) / HOUR_MS)
                           * HOUR_MS)
            if proposed > topic.retention_ms * (1 - config["min_reduction"]):
                continue
            if topic.retention_ms >= LONG_RETENTION_MS:
                yield self.skip(model, topic.name, "kept a year or more on purpose (an audit "
                                "or ledger archive): ask its owner, not a rule")
                continue
            slowest = max(readers, key=lambda r: r.max_lag_seconds or 0.0)
            yield Candidate(topic.name,
                            (topic_change(model, topic.name, retention_ms=proposed),),
                            {"proposed": proposed, "lag": lag, "slowest": slowest,
                             "readers": len(readers)})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name, proposed, lag = candidate.target, candidate.facts["proposed"], \
            candidate.facts["lag"]
        slowest = candidate.facts["slowest"]
        topic = model.snapshot.topic(name)
        window = history.window(self.needed_days(config))
        rec = self.topic_recommendation(
            model, candidate, pricing,
            title=f"Keep {name} for {proposed / HOUR_MS:.0f} h instead of "
                  f"{topic.retention_ms / HOUR_MS:.0f} h",
            evidence=(
                Evidence("slowest_reader_max_lag", round(lag, 1), "seconds", window),
                Evidence("slowest_reader", f"{slowest.group} ({slowest.why})", "group",
                         window),
                Evidence("readers", candidate.facts["readers"], "count", window),
                Evidence("retention_ms", topic.retention_ms, "ms"),
                Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
                Evidence("bytes_in_per_second", round(topic.bytes_in_per_second, 1),
                         "bytes/s", snapshot_window(model)),
            ),
            current={"retention.ms": topic.retention_ms},
            proposed={"retention.ms": proposed},
            risk="low" if proposed >= 2 * lag * 1000 else "medium",
            confidence=0.9,
            change=kafka_configs_command(model, name, {"retention.ms": proposed}),
            alternative_group=storage_alternatives(model, name),
        )
        return with_freed_capacity(model, rec, topic.retention_ms, proposed)
