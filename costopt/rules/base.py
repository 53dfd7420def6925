"""The rule protocol and the loop every rule shares.

As in cruise-control's `AbstractGoal`, the base class owns the loop and the rules fill in two
hooks: `candidates` (what would I change, and the what-if changes that say so) and `describe`
(the recommendation, given what those changes were priced at). No rule prices anything
itself: `evaluate` prices every candidate through the what-if engine (`rules/pricing.py`), so
every saving shown is what `POST /v1/whatif` of its changes says.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from costopt.model import ClusterModel
from costopt.money import Money
from costopt.rules.pricing import Candidate, Pricing, price
from costopt.rules.recommendation import Recommendation
from costopt.whatif.changes import Change, Selector

BOOTSTRAP_PLACEHOLDER = "$BOOTSTRAP"
GIB = 1024**3
SERIES = ["bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
          "log_size_bytes"]


@dataclass(frozen=True)
class History:
    """A cluster's stored history: daily means over the window, per-topic peaks (the largest
    value of each series at any resolution, hourly included), per-time cluster totals, and the
    span actually observed."""

    daily: pd.DataFrame
    peaks: pd.DataFrame  # indexed by topic
    window_days: float
    totals: pd.DataFrame | None = None  # resolution_seconds, ts, sums of SERIES per time

    @classmethod
    def empty(cls) -> History:
        return cls(pd.DataFrame(columns=["topic", "ts", "resolution_seconds", *SERIES]),
                   pd.DataFrame(columns=SERIES), 0.0)

    @classmethod
    def from_series(cls, series: pd.DataFrame) -> History:
        """From a frame of stored series (both resolutions), as the store would give it."""
        if series.empty:
            return cls.empty()
        daily = series[series["resolution_seconds"] == 86_400].reset_index(drop=True)
        peaks = series.groupby("topic")[SERIES].max()
        span = (series["ts"].max() - series["ts"].min()).total_seconds() / 86_400
        totals = (series.groupby(["resolution_seconds", "ts"], as_index=False)[SERIES].sum()
                  .sort_values(["resolution_seconds", "ts"], ignore_index=True))
        return cls(daily, peaks, float(span) + 1, totals)

    def max_by_topic(self, column: str) -> pd.Series:
        if self.peaks.empty:
            return pd.Series(dtype=float)
        return self.peaks[column]

    def percentile_ratio(self, column: str, percentile: float, resolution_seconds: int,
                         reference: str = "mean") -> float:
        """The `percentile` of the cluster total of `column` over the window, divided by its
        mean (rates, which snapshots hold as window averages) or by its last value (sizes,
        which snapshots hold as of now): how far above that a busy moment is. Never below 1;
        1 without history. `throughput` is bytes in + out."""
        if self.totals is None or self.totals.empty:
            return 1.0
        at = self.totals[self.totals["resolution_seconds"] == resolution_seconds]
        if column == "throughput":
            values = (at["bytes_in_per_second"] + at["bytes_out_per_second"]).to_numpy(float)
        else:
            values = at[column].to_numpy(dtype=float)
        if len(values) < 2:
            return 1.0
        base = values[-1] if reference == "last" else values.mean()
        if base <= 0:
            return 1.0
        return max(1.0, float(np.quantile(values, percentile)) / float(base))


class Rule(Protocol):
    name: str

    def evaluate(self, model: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]: ...


class BaseRule:
    """Settings merged with defaults; candidates priced through the engine; hooks for the
    rest. A rule with no what-if changes to price (a pure risk finding) overrides
    `evaluate` or yields candidates without changes."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}

    def evaluate(self, model: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        config = self.settings(settings)
        candidates = list(self.candidates(model, history, config))
        out = []
        for candidate, pricing in zip(candidates, price(model, candidates), strict=True):
            recommendation = self.describe(model, history, config, candidate, pricing)
            if recommendation is not None:
                out.append(recommendation)
        return out

    def candidates(self, model: ClusterModel, history: History,
                   config: Mapping[str, Any]) -> Iterable[Candidate]:
        raise NotImplementedError

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        raise NotImplementedError

    def settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(overrides) - set(self.defaults) - {"enabled"}
        if unknown:
            raise ValueError(f"rule {self.name!r} has no setting(s) {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        return {**self.defaults, **overrides}

    def topic_recommendation(self, model: ClusterModel, candidate: Candidate, pricing: Pricing,
                             **fields: Any) -> Recommendation:
        """A saving about one topic, owned as the topic is, with its pricing filled in."""
        kind = fields.pop("kind", self.name)
        currency = model.cost.currency
        row = model.index.get(candidate.target)
        target_cost = (Money.from_micros(int(model.cost.rows["monthly_cost_micros"].iat[row]),
                                         currency) if row is not None else None)
        return Recommendation(
            cluster=model.cluster, kind=kind, target_type="topic", target=candidate.target,
            owner=model.owner_of(candidate.target), whatif=candidate.changes,
            target_cost=target_cost, **priced_fields(model, pricing), **fields)


def priced_fields(model: ClusterModel, pricing: Pricing) -> dict[str, Any]:
    currency = model.cost.currency
    return {
        "monthly_savings": Money.from_micros(pricing.savings_micros, currency),
        "monthly_cost": (Money.from_micros(pricing.cost_micros, currency)
                         if pricing.cost_micros else None),
        "capacity_freed": {"disk_bytes": round(pricing.disk_bytes_freed),
                           "brokers": round(pricing.brokers_freed, 3)},
    }


def worth_recommending(pricing: Pricing, config: Mapping[str, Any]) -> bool:
    """A saving of at least `min_monthly_savings`, or at least `min_disk_freed_gib` of disk
    freed (which a later resize turns into money)."""
    return (pricing.savings_micros >= config.get("min_monthly_savings", 0.0) * 1_000_000
            or pricing.disk_bytes_freed >= config.get("min_disk_freed_gib", float("inf")) * GIB)


def topic_change(model: ClusterModel, topic: str, **values: Any) -> Change:
    return Change(selector=Selector(cluster=model.cluster, topic=topic), **values)


def bootstrap(model: ClusterModel) -> str:
    return model.snapshot.labels.get("bootstrap_servers", BOOTSTRAP_PLACEHOLDER)


def kafka_configs_command(model: ClusterModel, topic: str, configs: Mapping[str, Any]) -> str:
    settings = ",".join(f"{key}={value}" for key, value in configs.items())
    return (f"kafka-configs.sh --bootstrap-server {shlex.quote(bootstrap(model))} --alter "
            f"--entity-type topics --entity-name {shlex.quote(topic)} "
            f"--add-config {shlex.quote(settings)}")


def zero(model: ClusterModel) -> Money:
    return Money.zero(model.cost.currency)
