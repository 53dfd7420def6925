"""Retention: data kept far longer than any consumer needs it.

What a topic needs is its slowest live reader's largest time lag over the window, plus a margin
(abandoned groups do not count: nobody reads for them). Compacted topics are left alone:
retention does not bound a compacted log.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.model import ClusterModel
from costopt.rules.base import (
    BaseRule,
    History,
    kafka_configs_command,
    topic_change,
    worth_recommending,
)
from costopt.rules.pricing import Candidate, Pricing
from costopt.rules.recommendation import Evidence, Recommendation

HOUR_MS = 3_600_000


def live_max_lag_seconds(model: ClusterModel) -> dict[str, float]:
    """Per topic, the largest time lag of any group that has members."""
    lags: dict[str, float] = {}
    for group in model.snapshot.groups:
        if group.members <= 0 or group.state in ("Empty", "Dead"):
            continue
        lag = group.max_lag_seconds if group.max_lag_seconds is not None else group.lag_seconds
        if lag is None:
            continue
        lags[group.topic] = max(lags.get(group.topic, 0.0), lag)
    return lags


def storage_alternatives(model: ClusterModel, topic: str) -> str:
    """Retention and tiering both answer "this topic keeps too much on the brokers"."""
    return f"{model.cluster}/{topic}/storage"


class RetentionRule(BaseRule):
    name = "retention"
    defaults: ClassVar[dict[str, Any]] = {
        "floor_hours": 24,  # never propose less than this
        "margin": 0.5,  # proposed = max lag × (1 + margin)
        "min_reduction": 0.5,  # fire only when the proposal keeps at most half
        "min_window_days": 7,  # a weekly batch reader must have had its chance to show up
        "min_monthly_savings": 1.0,
        "min_disk_freed_gib": 1.0,
    }

    def candidates(self, model: ClusterModel, history: History,
                   config: Mapping[str, Any]) -> Iterable[Candidate]:
        lags = live_max_lag_seconds(model)
        floor_ms = int(config["floor_hours"] * HOUR_MS)
        for topic in model.snapshot.topics:
            if topic.is_internal or topic.cleanup_policy == "compact" or topic.retention_ms < 0:
                continue
            if topic.name not in lags or topic.bytes_in_per_second <= 0:
                continue  # unread or idle topics are other rules' business
            needed_ms = lags[topic.name] * 1000 * (1 + config["margin"])
            proposed = max(floor_ms, math.ceil(needed_ms / HOUR_MS) * HOUR_MS)
            if proposed <= topic.retention_ms * (1 - config["min_reduction"]):
                yield Candidate(topic.name,
                                (topic_change(model, topic.name, retention_ms=proposed),),
                                {"proposed": proposed, "lag": lags[topic.name]})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name, proposed, lag = candidate.target, candidate.facts["proposed"], \
            candidate.facts["lag"]
        topic = model.snapshot.topic(name)
        window_ok = history.window_days >= config["min_window_days"]
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Keep {name} for {proposed / HOUR_MS:.0f} h instead of "
                  f"{topic.retention_ms / HOUR_MS:.0f} h",
            evidence=(
                Evidence("max_consumer_lag", round(lag, 1), "seconds",
                         f"{history.window_days:.0f} days"),
                Evidence("retention_ms", topic.retention_ms, "ms"),
                Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
                Evidence("bytes_in_per_second", round(topic.bytes_in_per_second, 1),
                         "bytes/s", "24 hours"),
            ),
            current={"retention.ms": topic.retention_ms},
            proposed={"retention.ms": proposed},
            risk="low" if proposed >= 2 * lag * 1000 else "medium",
            confidence=0.9 if window_ok else 0.5,
            change=kafka_configs_command(model, name, {"retention.ms": proposed}),
            alternative_group=storage_alternatives(model, name),
        )
