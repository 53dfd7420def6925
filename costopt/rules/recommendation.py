"""A recommendation: an immutable value with its evidence, saving, risk and exact change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from costopt.money import Money
from costopt.whatif.changes import Change

Risk = Literal["low", "medium", "high"]
TargetType = Literal["topic", "group", "broker", "cluster"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One measured value a rule relied on: what, how much, in what unit, over what window."""

    name: str
    value: float | int | str
    unit: str
    window: str = "snapshot"


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

    @property
    def id(self) -> str:
        """Stable across runs for the same finding and proposal, so a dismissal sticks."""
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "cluster": self.cluster, "kind": self.kind,
            "target_type": self.target_type, "target": self.target, "owner": self.owner,
            "title": self.title,
            "evidence": [{"name": e.name, "value": e.value, "unit": e.unit, "window": e.window}
                         for e in self.evidence],
            "current": self.current, "proposed": self.proposed,
            "monthly_savings": str(self.monthly_savings.rounded()),
            "currency": self.monthly_savings.currency, "period": self.monthly_savings.period,
            "risk": self.risk, "confidence": round(self.confidence, 2), "change": self.change,
            "whatif": [change.model_dump(exclude_none=True) for change in self.whatif],
        }
