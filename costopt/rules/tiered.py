"""Tiered storage (KIP-405): long retention with old data rarely read moves to object storage,
keeping only the recent part on broker disks. Not for compacted topics; cannot be turned off
once enabled on a topic, hence medium risk.

On provisioned disks tiering costs object storage now and frees disk: the money comes only
when the disks or brokers are resized, which the savings plan does after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.model import ClusterModel
from costopt.rules.base import (
    BaseRule,
    RuleContext,
    Skip,
    kafka_configs_command,
    topic_change,
    worth_recommending,
)
from costopt.rules.history import History
from costopt.rules.pricing import Candidate, Pricing
from costopt.rules.readers import slowest_reader_lag_seconds
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.rules.retention import HOUR_MS, RetentionRule, storage_alternatives


class TieredStorageRule(BaseRule):
    name = "tiered_storage"
    defaults: ClassVar[dict[str, Any]] = {
        "min_retention_days": 7,
        "local_retention_hours": 24,
        "min_window_days": 7,
        "min_monthly_savings": 5.0,
        "min_disk_freed_gib": 50.0,
    }

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        catalog = model.catalog
        if catalog.object_storage_per_gb_month <= 0 or catalog.storage_billing == "used":
            return
        local_ms = int(config["local_retention_hours"] * HOUR_MS)
        for topic in model.snapshot.topics:
            if (topic.is_internal or topic.is_compacted or topic.remote_storage_enable
                    or topic.retention_ms < config["min_retention_days"] * 86_400_000):
                continue
            lag = slowest_reader_lag_seconds(context.readers.get(topic.name, []))
            # Where retention itself can be cut, that rule's advice is the better one; tiering
            # is for retention that some reader does use, rarely, deep in the log.
            needed_ms = (lag or 0.0) * 1000 * (1 + RetentionRule.defaults["margin"])
            if lag is not None and needed_ms <= topic.retention_ms * (
                    1 - RetentionRule.defaults["min_reduction"]):
                continue
            if local_ms < topic.retention_ms / 2:
                yield Candidate(topic.name, (topic_change(
                    model, topic.name, tiered_storage=True, local_retention_ms=local_ms),),
                    {"local": local_ms, "lag": lag})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name, local = candidate.target, candidate.facts["local"]
        topic = model.snapshot.topic(name)
        lag = candidate.facts["lag"]
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Tier {name}: keep {local / HOUR_MS:.0f} h on brokers, the rest in "
                  "object storage",
            evidence=(Evidence("retention_ms", topic.retention_ms, "ms"),
                      Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
                      Evidence("slowest_reader_max_lag",
                               round(lag, 1) if lag is not None else "unknown", "seconds",
                               history.window(self.needed_days(config)))),
            current={"remote.storage.enable": False},
            proposed={"remote.storage.enable": True, "local.retention.ms": local},
            risk="medium", confidence=0.75,
            change=kafka_configs_command(model, name, {"remote.storage.enable": "true",
                                                       "local.retention.ms": local}),
            alternative_group=storage_alternatives(model, name),
        )
