"""Tiered storage (KIP-405): long retention with old data rarely read moves to object storage,
keeping only the recent part on broker disks. Not for compacted topics; cannot be turned off
once enabled on a topic, hence medium risk.

On provisioned disks tiering costs object storage now and frees disk: the money comes only
when the disks or brokers are resized, which the savings plan does after it.

A topic can tier only where the brokers run tiered storage (`remote.log.storage.system.enable`
and a remote storage manager; on MSK, the cluster's TIERED storage mode). Where they do not,
or it is unknown, the finding is a `watch` that states the enabling step and what tiering
would cost, and stays out of the savings plan: a topic command alone would be refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import (
    BaseRule,
    RuleContext,
    Skip,
    kafka_configs_command,
    topic_change,
    worth_recommending,
)
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.readers import slowest_reader_lag_seconds
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.rules.retention import (
    HOUR_MS,
    RetentionRule,
    storage_alternatives,
    with_freed_capacity,
)
from costopt.snapshot.cluster_snapshot import TIERED_SYSTEM_LABEL


class TieredStorageRule(BaseRule):
    name = "tiered_storage"
    not_on: ClassVar[dict[str, str]] = {
        "confluent_cloud": "Confluent Cloud tiers storage itself and bills stored bytes alike"}
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
                    {"local": local_ms, "lag": lag,
                     "enabled": model.snapshot.tiered_storage_enabled})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name, local = candidate.target, candidate.facts["local"]
        topic = model.snapshot.topic(name)
        lag = candidate.facts["lag"]
        enabled = candidate.facts.get("enabled", True)
        if not enabled:
            return self._enabling_first(model, history, config, candidate, pricing)
        rec = self.topic_recommendation(
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
        return with_freed_capacity(model, rec, topic.retention_ms, local)

    def _enabling_first(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                        candidate: Candidate, pricing: Pricing) -> Recommendation:
        """Tiering a topic on brokers without tiered storage: the cluster step first, with
        what the topic would then cost in object storage and save."""
        name, local = candidate.target, candidate.facts["local"]
        topic = model.snapshot.topic(name)
        state = "unknown" if candidate.facts["enabled"] is None else "false"
        cost = (f"{pricing.cost_micros / 1_000_000:,.2f} {model.cost.currency}/month of object "
                "storage and requests" if pricing.cost_micros else "no object-storage charge")
        step = (ENABLE_MSK if model.catalog.kind == "msk" else ENABLE_SELF_MANAGED)
        topic_step = kafka_configs_command(model, name, {"remote.storage.enable": "true",
                                                         "local.retention.ms": local})
        return self.topic_recommendation(
            model, candidate, pricing, category="watch",
            title=f"Watch: tiered storage is off on {model.cluster} ({state}); turned on, "
                  f"{name} could keep {local / HOUR_MS:.0f} h on brokers ({cost})",
            evidence=(Evidence(TIERED_SYSTEM_LABEL, state, "broker config"),
                      Evidence("retention_ms", topic.retention_ms, "ms"),
                      Evidence("log_size_bytes", topic.log_size_bytes, "bytes"),
                      Evidence("object_storage_monthly_cost",
                               round(pricing.cost_micros / 1_000_000, 2),
                               f"{model.cost.currency}/month")),
            current={TIERED_SYSTEM_LABEL: state, "remote.storage.enable": False},
            proposed={TIERED_SYSTEM_LABEL: True, "remote.storage.enable": True,
                      "local.retention.ms": local},
            risk="high", confidence=0.5,
            change=f"1. {step} 2. Then: {topic_step}",
            alternative_group=storage_alternatives(model, name),
        )


ENABLE_SELF_MANAGED = (
    "On every broker (Kafka 3.6 or later), set remote.log.storage.system.enable=true and "
    "remote.log.storage.manager.class.name (with its class path and bucket settings) for a "
    "remote storage manager plugin, then restart the brokers one at a time; the bucket is "
    "billed per GB-month and per request, as priced here.")
ENABLE_MSK = (
    "Switch the cluster's storage mode to tiered (aws kafka update-storage --storage-mode "
    "TIERED; Kafka 3.6 or later, not on t3 brokers); MSK bills the tier per GB-month and "
    "retrieval per GB, as priced here.")
