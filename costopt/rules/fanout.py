"""Fan-out: a topic read by many consumer groups costs egress and broker load per group.
Consolidating readers behind one shared consumer or a push proxy reads it once (Wix reported
cutting its Kafka bill 30% this way)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from costopt.money import Money
from costopt.rules.base import BaseRule, History, frame_savings
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.engine import ClusterModel


class FanOutRule(BaseRule):
    name = "fan_out"
    defaults: ClassVar[dict[str, Any]] = {"min_groups": 5, "min_monthly_savings": 20.0}

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        model = snapshot
        readers: dict[str, list[str]] = {}
        for group in model.snapshot.groups:
            if group.members > 0:
                readers.setdefault(group.topic, []).append(group.group)
        wide = {t: g for t, g in readers.items() if len(g) >= config["min_groups"]}
        if not wide:
            return []
        after = model.frame.copy()
        mask = after["topic"].isin(list(wide)).to_numpy()
        # One read from Kafka per topic; the proxy serves the groups.
        after.loc[mask, "bytes_out_per_second"] = np.minimum(
            after.loc[mask, "bytes_out_per_second"], after.loc[mask, "bytes_in_per_second"])
        savings = dict(zip(model.frame["topic"], frame_savings(model, after), strict=True))
        out = []
        for name, groups in sorted(wide.items()):
            saving = Money.from_micros(int(savings[name]), model.cost.currency)
            if saving.amount < config["min_monthly_savings"]:
                continue
            topic = model.snapshot.topic(name)
            out.append(self.topic_recommendation(
                model, name,
                title=f"{len(groups)} consumer groups each read {name}: read it once through a "
                      "shared consumer or push proxy",
                evidence=(Evidence("consumer_groups", len(groups), "count"),
                          Evidence("bytes_out_per_second", round(topic.bytes_out_per_second, 1),
                                   "bytes/s", "24 hours"),
                          Evidence("bytes_in_per_second", round(topic.bytes_in_per_second, 1),
                                   "bytes/s", "24 hours")),
                current={"consumer_groups": len(groups)},
                proposed={"consumer_groups": 1, "proxy": True},
                monthly_savings=saving, risk="high", confidence=0.6,
                change=f"route groups {', '.join(sorted(groups)[:5])}"
                       f"{' …' if len(groups) > 5 else ''} through one shared consumer or a "
                       "push proxy (e.g. Wix's Greyhound consumer proxy pattern)",
            ))
        return out
