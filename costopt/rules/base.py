"""The rule protocol and the steps rules share.

A rule looks at one analyzed cluster and returns recommendations. It never prices anything
itself: it states the change it proposes, and `savings_micros` prices it with the cost model
(bill before minus bill after), so every saving shown is reproducible in the what-if engine.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from costopt.cost.allocation import bill_delta_per_topic
from costopt.money import Money
from costopt.rules.recommendation import Recommendation
from costopt.whatif.apply import apply_change
from costopt.whatif.changes import Change
from costopt.whatif.engine import ClusterModel

BOOTSTRAP_PLACEHOLDER = "$BOOTSTRAP"


@dataclass(frozen=True)
class History:
    """A cluster's stored history: daily means over the window, and per-topic peaks (the
    largest value of each series at any resolution, hourly included)."""

    daily: pd.DataFrame
    peaks: pd.DataFrame  # indexed by topic
    window_days: float

    @classmethod
    def empty(cls) -> History:
        columns = ["bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                   "log_size_bytes"]
        return cls(pd.DataFrame(columns=["topic", "ts", "resolution_seconds", *columns]),
                   pd.DataFrame(columns=columns), 0.0)

    @classmethod
    def from_series(cls, series: pd.DataFrame) -> History:
        """From a frame of stored series (both resolutions), as the store would give it."""
        if series.empty:
            return cls.empty()
        columns = ["bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                   "log_size_bytes"]
        daily = series[series["resolution_seconds"] == 86_400].reset_index(drop=True)
        peaks = series.groupby("topic")[columns].max()
        span = (series["ts"].max() - series["ts"].min()).total_seconds() / 86_400
        return cls(daily, peaks, float(span) + 1)

    def max_by_topic(self, column: str) -> pd.Series:
        if self.peaks.empty:
            return pd.Series(dtype=float)
        return self.peaks[column]


class Rule(Protocol):
    name: str

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]: ...


class BaseRule:
    """Defaults merged with user settings; subclasses implement `evaluate`."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}

    def evaluate(self, snapshot: ClusterModel, history: History,
                 settings: Mapping[str, Any]) -> list[Recommendation]:
        raise NotImplementedError

    def topic_recommendation(self, model: ClusterModel, topic: str,
                             **fields: Any) -> Recommendation:
        """A recommendation about one topic of the cluster, owned as the topic is."""
        kind = fields.pop("kind", self.name)
        return Recommendation(cluster=model.snapshot.cluster, kind=kind, target_type="topic",
                              target=topic, owner=model.owner_of(topic), **fields)

    def settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(overrides) - set(self.defaults) - {"enabled"}
        if unknown:
            raise ValueError(f"rule {self.name!r} has no setting(s) {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        return {**self.defaults, **overrides}


def topic_change_savings(model: ClusterModel, changes: Mapping[str, Change]) -> dict[str, Money]:
    """Saving of each topic's own change, each applied alone, priced by the cost model.

    Works on the changed rows only, grouped by identical change, so thousands of findings on
    a 20,000-topic cluster cost one small pass each group, not a fleet copy each finding.
    """
    if not changes:
        return {}
    frame = model.frame
    before = frame[frame["topic"].isin(list(changes))].reset_index(drop=True)
    after = before
    groups: dict[str, list[str]] = {}
    for topic, change in changes.items():
        key = change.model_dump_json(exclude={"selector"})
        groups.setdefault(key, []).append(topic)
    for topics in groups.values():
        mask = after["topic"].isin(topics).to_numpy()
        after = apply_change(after, mask, changes[topics[0]], model.estimates)
    deltas = bill_delta_per_topic(model.cost.basis, before, after)
    return {topic: Money.from_micros(-int(delta), model.cost.currency)
            for topic, delta in zip(before["topic"], deltas, strict=True)}


def frame_savings(model: ClusterModel, after: pd.DataFrame) -> np.ndarray:
    """Saving per topic (micros) when topics change to their rows in `after` (row-aligned with
    the model's frame)."""
    return -bill_delta_per_topic(model.cost.basis, model.frame, after)


def bootstrap(model: ClusterModel) -> str:
    return model.snapshot.labels.get("bootstrap_servers", BOOTSTRAP_PLACEHOLDER)


def kafka_configs_command(model: ClusterModel, topic: str, configs: Mapping[str, Any]) -> str:
    settings = ",".join(f"{key}={value}" for key, value in configs.items())
    return (f"kafka-configs.sh --bootstrap-server {shlex.quote(bootstrap(model))} --alter "
            f"--entity-type topics --entity-name {shlex.quote(topic)} "
            f"--add-config {shlex.quote(settings)}")


def zero(model: ClusterModel) -> Money:
    return Money.zero(model.cost.currency)
