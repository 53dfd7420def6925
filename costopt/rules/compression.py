"""Compression: topics stored uncompressed or with a weak codec.

The ratio per codec is measured by compressing Kafka-like batches of the topic's sampled
records (`costopt.base.compression_ratios`); the current ratio is observed from bytes per message on
the wire against the raw size of the sampled records. No samples, no recommendation: a guess
about someone's payloads is not evidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

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
from costopt.rules.recommendation import Evidence, Recommendation


class CompressionRule(BaseRule):
    name = "compression"
    defaults: ClassVar[dict[str, Any]] = {
        "codec": "zstd",  # what to propose; the measured best is shown as evidence
        "min_improvement": 0.2,  # proposed stored bytes at most 80% of today's
        "min_monthly_savings": 1.0,
        "min_disk_freed_gib": 1.0,
    }

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        codec = config["codec"]
        for name, estimate in model.estimates.items():
            row = model.index.get(name)
            if row is None:
                continue
            now = float(model.observed_ratio[row])
            if math.isnan(now):
                continue
            proposed_ratio = estimate.ratios[codec]
            if proposed_ratio <= now * (1 - config["min_improvement"]):
                yield Candidate(name, (topic_change(model, name, compression=codec),),
                                {"now": now, "proposed": proposed_ratio})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if not worth_recommending(pricing, config):
            return None
        name, codec = candidate.target, config["codec"]
        now, proposed_ratio = candidate.facts["now"], candidate.facts["proposed"]
        topic = model.snapshot.topic(name)
        estimate = model.estimates[name]
        if topic.compression_type == "producer":
            change = (f"producer config for every producer of {name}: "
                      f"compression.type={codec}, linger.ms=20, batch.size=65536")
            where = "producers"
        else:
            change = kafka_configs_command(model, name, {"compression.type": codec})
            where = "topic"
        return self.topic_recommendation(
            model, candidate, pricing,
            title=f"Compress {name} with {codec} ({where}): stored bytes "
                  f"{now:.0%} → {proposed_ratio:.0%} of raw",
            evidence=(
                Evidence("observed_stored_to_raw_ratio", round(now, 3), "ratio",
                         snapshot_window(model)),
                *(Evidence(f"measured_ratio_{c}", round(r, 3), "ratio",
                           f"{estimate.records} sampled records")
                  for c, r in sorted(estimate.ratios.items())),
                Evidence("bytes_in_per_second", round(topic.bytes_in_per_second, 1),
                         "bytes/s", snapshot_window(model)),
            ),
            current={"compression.type": topic.compression_type,
                     "stored_to_raw_ratio": round(now, 3)},
            proposed={"compression.type": codec,
                      "stored_to_raw_ratio": round(proposed_ratio, 3)},
            # Producer-side compression costs client CPU, topic-side recompression costs
            # broker CPU; both are reversible.
            risk="low" if where == "producers" else "medium",
            confidence=min(0.95, 0.5 + estimate.records / 400),
            change=change,
        )
