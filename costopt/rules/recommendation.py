"""A recommendation: an immutable value with its evidence, saving, risk and exact change.

Two categories share the shape. A **saving** proposes a change and states what it saves now
(`monthly_savings`: exactly what `POST /v1/whatif` of its `whatif` says, sign included, so a
change that only frees capacity, such as tiering onto provisioned disks, shows the little it
costs until a capacity step resizes the cluster), what it costs where it costs something
(`monthly_cost`), and the disk and broker capacity it frees (`capacity_freed`, not money:
only a capacity change that resizes the cluster turns it into money; the savings plan pairs
such a step with that capacity step). A **risk** finding (min.insync.replicas, a capacity
need, a misconfiguration) states a problem with its `severity`; where fixing it costs money,
that is its `monthly_cost`, and its `monthly_savings` is the what-if's, the same amount
negated. A **watch** item is a saving that
rests on less history than its rule needs and would delete or cut something: it is shown so
someone can look, never advised and never in the savings plan.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from costopt.base.money import Money
from costopt.base.pickling import SlotsPickle
from costopt.base.units import human
from costopt.whatif.changes import Change

Risk = Literal["low", "medium", "high"]
Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["saving", "risk", "watch"]
TargetType = Literal["topic", "group", "broker", "cluster"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True, slots=True)
class Evidence(SlotsPickle):
    """One measured value a rule relied on: what, how much, in what unit, over what window.

    `window` states the span actually observed ("6 min observed (7 d needed)", "30 d",
    "snapshot"), never a span that was only assumed."""

    name: str
    value: float | int | str
    unit: str
    window: str = "snapshot"

    @property
    def display(self) -> str:
        """The value in human units (`90 d`, `1.5 TiB`, `2.1 MiB/s`)."""
        return human(self.value, self.unit)


@dataclass(frozen=True)
class Recommendation:
    cluster: str
    kind: str
    target_type: TargetType
    target: str
    owner: str
    title: str
    evidence: tuple[Evidence, ...]
    current: dict[str, Any]
    proposed: dict[str, Any]
    monthly_savings: Money
    risk: Risk
    confidence: float
    change: str  # the exact command (kafka-configs / kafka-topics / ...) or client setting
    whatif: tuple[Change, ...] = field(default=())  # reproduces the saving in the what-if engine
    category: Category = "saving"
    severity: Severity | None = None  # risk findings only
    monthly_cost: Money | None = None  # what the change adds to the bill, where it adds
    capacity_freed: dict[str, float] | None = None  # disk_bytes, brokers (negative: needed)
    target_cost: Money | None = None  # the target's monthly cost today
    # Alternatives for one target share a group (retention vs tiering of a topic): a plan
    # takes at most one of them.
    alternative_group: str | None = None
    provisional: bool = False  # rests on less history than the rule needs
    observed_days: float | None = None
    needed_days: float | None = None

    @cached_property
    def id(self) -> str:
        """Stable across runs for the same finding and proposal, so a dismissal sticks. Kept
        once computed: a plan orders and looks up tens of thousands of recommendations by it."""
        key = json.dumps([self.cluster, self.kind, self.target_type, self.target,
                          self.proposed], sort_keys=True, default=str)
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def evidence_fingerprint(self) -> str:
        """Coarse evidence, rounded to 2 significant figures: a dismissed finding is raised
        again only when this changes (the evidence changed materially)."""
        def coarse(value: float | int | str) -> str:
            return f"{value:.2g}" if isinstance(value, int | float) else str(value)
        key = json.dumps([(e.name, coarse(e.value)) for e in self.evidence])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def conflict_key(self) -> str:
        """Recommendations with the same key are alternatives: take one."""
        return self.alternative_group or f"{self.cluster}/{self.kind}/{self.target}"

    def to_dict(self) -> dict[str, Any]:
        currency, period = self.monthly_savings.currency, self.monthly_savings.period
        return {
            "id": self.id, "cluster": self.cluster, "kind": self.kind,
            "category": self.category, "severity": self.severity,
            "target_type": self.target_type, "target": self.target, "owner": self.owner,
            "title": self.title,
            "evidence": [{"name": e.name, "value": e.value, "unit": e.unit,
                          "display": e.display, "window": e.window} for e in self.evidence],
            "current": self.current, "proposed": self.proposed,
            "monthly_savings": str(self.monthly_savings.rounded()),
            "monthly_cost": str(self.monthly_cost.rounded()) if self.monthly_cost else None,
            "target_monthly_cost": str(self.target_cost.rounded()) if self.target_cost
            else None,
            "currency": currency, "period": period,
            "capacity_freed": self.capacity_freed,
            "risk": self.risk, "confidence": round(self.confidence, 2), "change": self.change,
            "provisional": self.provisional, "observed_days": self.observed_days,
            "needed_days": self.needed_days, "alternative_group": self.alternative_group,
            "whatif": [change.model_dump(exclude_none=True) for change in self.whatif],
        }
