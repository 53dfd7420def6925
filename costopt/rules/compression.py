"""Compression: topics stored uncompressed or with a weak codec.

The ratio per codec is measured by compressing Kafka-like batches of the topic's sampled
records (`costopt.compression`); the current ratio is observed from bytes per message on the
wire against the raw size of the sampled records. No samples, no recommendation: a guess
about someone's payloads is not evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from costopt.rules.base import BaseRule, History, kafka_configs_command, topic_change_savings
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import ClusterModel


class CompressionRule(BaseRule):
    name = "compression"
    defaults: ClassVar[dict[str, Any]] = {
        "codec": "zstd",  # what to propose; the measured best is shown as evidence
        "min_improvement": 0.2,  # proposed stored bytes at most 80% of today's
        "min_monthly_savings": 1.0,
    }

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        frame = model.frame
        if "observed_ratio" not in frame.columns:
            return []
        observed = dict(zip(frame["topic"], frame["observed_ratio"], strict=True))
        codec = config["codec"]
        candidates: dict[str, tuple[float, float]] = {}
        for name, estimate in model.estimates.items():
            now = observed.get(name)
            if now is None or np.isnan(now):
                continue
            proposed_ratio = estimate.ratios[codec]
            if proposed_ratio <= now * (1 - config["min_improvement"]):
                candidates[name] = (now, proposed_ratio)
        changes = {name: Change(selector=Selector(topic=name), compression=codec)
                   for name in candidates}
        savings = topic_change_savings(model, changes)
        out = []
        for name, (now, proposed_ratio) in candidates.items():
            if savings[name].amount < config["min_monthly_savings"]:
                continue
            topic = model.snapshot.topic(name)
            estimate = model.estimates[name]
            if topic.compression_type == "producer":
                change = (f"producer config for every producer of {name}: "
                          f"compression.type={codec}, linger.ms=20, batch.size=65536")
                where = "producers"
            else:
                change = kafka_configs_command(model, name, {"compression.type": codec})
                where = "topic"
            out.append(self.topic_recommendation(
                model, name,
                title=f"Compress {name} with {codec} ({where}): stored bytes "
                      f"{now:.0%} → {proposed_ratio:.0%} of raw",
                evidence=(
                    Evidence("observed_stored_to_raw_ratio", round(now, 3), "ratio", "24 hours"),
                    *(Evidence(f"measured_ratio_{c}", round(r, 3), "ratio",
                               f"{estimate.records} sampled records")
                      for c, r in sorted(estimate.ratios.items())),
                    Evidence("bytes_in_per_second", round(topic.bytes_in_per_second, 1),
                             "bytes/s", "24 hours"),
                ),
                current={"compression.type": topic.compression_type,
                         "stored_to_raw_ratio": round(now, 3)},
                proposed={"compression.type": codec,
                          "stored_to_raw_ratio": round(proposed_ratio, 3)},
                monthly_savings=savings[name],
                # Producer-side compression costs client CPU, topic-side recompression costs
                # broker CPU; both are reversible.
                risk="low" if where == "producers" else "medium",
                confidence=min(0.95, 0.5 + estimate.records / 400),
                change=change, whatif=(changes[name],),
            ))
        return out
