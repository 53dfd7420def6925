"""What an anomaly is, as stored, served and delivered; and its settings."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from costopt.base.money import Money, decimal_to_micros, rounded

Scope = Literal["topic", "owner", "cluster", "component"]
SCOPES: tuple[Scope, ...] = ("topic", "owner", "cluster", "component")


class AnomalySettings(BaseModel):
    """The floor an anomaly must clear: a monthly-rate change of at least
    `min_monthly_impact` (in the fleet's currency) AND `min_share` of the item's cost."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    min_monthly_impact: Decimal = Field(Decimal(50), ge=0, description="fleet currency")
    min_share: float = Field(0.2, ge=0, le=10)
    sigmas: float = Field(4.0, gt=0, le=100, description="noise multiples a day must clear")

    @property
    def min_monthly_impact_micros(self) -> int:
        return decimal_to_micros(self.min_monthly_impact)


@dataclass(frozen=True)
class Driver:
    """What moved (`figure`: bytes_in, bytes_out, stored_bytes, partitions, replicas) and the
    change behind it where the snapshots either side show one (`change`, e.g.
    `retention.ms 86400000 → 2592000000`), with the evidence: the snapshots compared."""

    figure: str
    change: str | None
    kind: str  # config | codec | new_consumer_group | new_partitions | usage
    before: str | None = None  # the snapshot before (taken_at, ISO) or None
    after: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.figure}: {self.change}" if self.change else f"{self.figure} moved"


@dataclass(frozen=True)
class Anomaly:
    """One item's cost leaving its own recent behaviour, from `start` (a UTC day) to
    `resolved_on` (None while open). Figures are monthly rates in micro-units of `currency`;
    `expected` and `observed` are the deseasonalised day's."""

    scope: Scope
    cluster: str | None
    item: str
    owner: str | None
    start: date
    last_day: date
    resolved_on: date | None
    expected_monthly_micros: int
    observed_monthly_micros: int
    impact_monthly_micros: int
    currency: str
    driver: Driver

    @property
    def anomaly_id(self) -> str:
        """Stable across runs and replicas: the item and the day it started."""
        key = f"{self.scope}|{self.cluster}|{self.item}|{self.start.isoformat()}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def state(self) -> str:
        return "open" if self.resolved_on is None else "resolved"

    @property
    def impact(self) -> Money:
        return Money.from_micros(self.impact_monthly_micros, self.currency)

    def to_dict(self) -> dict[str, Any]:
        money = {name: rounded(getattr(self, f"{name}_monthly_micros"))
                 for name in ("expected", "observed", "impact")}
        return {"id": self.anomaly_id, "scope": self.scope, "cluster": self.cluster,
                "item": self.item, "owner": self.owner, "state": self.state,
                "start": self.start.isoformat(), "last_day": self.last_day.isoformat(),
                "resolved_on": self.resolved_on.isoformat() if self.resolved_on else None,
                "expected_monthly": money["expected"], "observed_monthly": money["observed"],
                "impact_monthly": money["impact"], "currency": self.currency,
                "period": "month", "driver": asdict(self.driver),
                "summary": self.summary()}

    def summary(self) -> str:
        where = self.item if self.scope != "topic" else f"{self.cluster}/{self.item}"
        return (f"{self.scope} {where}: {self.impact.rounded():+,} {self.currency}/month "
                f"since {self.start.isoformat()} ({self.driver.describe()})")


def parse_day(value: str | datetime | date) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
