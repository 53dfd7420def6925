"""A cluster as analyzed: its snapshot, baseline cost, measured compression and growth, built
once and never changed.

Rules, the what-if engine, the savings plan and the analysis all read this one object. Every
derived value (the columns projections work on, the observed compression ratio, growth per
topic, who reads what) is a cached property, so it is computed once, on first use, and a
reader never has to ask whether someone else added a column first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from costopt.base.compression_ratios import CompressionEstimate, observed_ratio
from costopt.cost.allocation import ClusterCost, Columns
from costopt.cost.zones import read_shares
from costopt.prices.catalog import PriceCatalog
from costopt.snapshot.cluster_snapshot import ClusterSnapshot

UNOWNED = "unowned"


@dataclass(frozen=True, eq=False)
class ClusterModel:
    snapshot: ClusterSnapshot
    catalog: PriceCatalog
    cost: ClusterCost
    estimates: Mapping[str, CompressionEstimate] = field(default_factory=dict)
    growth_per_day: Mapping[str, float] = field(default_factory=dict)

    @property
    def cluster(self) -> str:
        return self.snapshot.cluster

    @property
    def frame(self) -> pd.DataFrame:
        """The topic frame, for display and roll-ups (projections use `columns`)."""
        return self.cost.frame

    @cached_property
    def observed_ratio(self) -> np.ndarray:
        """Stored/raw bytes of each topic today where records were sampled, NaN elsewhere."""
        ratios = np.full(len(self.snapshot.topics), math.nan)
        for i, topic in enumerate(self.snapshot.topics):
            estimate = self.estimates.get(topic.name)
            if estimate is not None:
                ratio = observed_ratio(topic.bytes_in_per_second, topic.messages_in_per_second,
                                       estimate.raw_record_bytes)
                if ratio is not None:
                    ratios[i] = ratio
        return ratios

    @cached_property
    def columns(self) -> Columns:
        """The cost model's columns plus what changes need: the observed ratio, compaction."""
        columns = dict(self.cost.columns)
        columns["observed_ratio"] = self.observed_ratio
        columns["compacted"] = np.array(["compact" in str(p) for p in columns["cleanup_policy"]],
                                        dtype=bool)
        return columns

    @cached_property
    def row_totals_micros(self) -> np.ndarray:
        """Each topic's monthly cost (micros), aligned with `columns`."""
        totals: np.ndarray = self.cost.rows["monthly_cost_micros"].to_numpy()
        result: np.ndarray = totals[:len(self.snapshot.topics)]
        return result

    @cached_property
    def index(self) -> dict[str, int]:
        """Row of each topic in `columns`."""
        return {str(name): i for i, name in enumerate(self.columns["topic"])}

    @cached_property
    def growth(self) -> np.ndarray:
        """Measured growth rate per day of each topic, aligned with `columns`."""
        return np.array([self.growth_per_day.get(str(name), 0.0)
                         for name in self.columns["topic"]], dtype=np.float64)

    @cached_property
    def _owners(self) -> dict[str, str]:
        return {str(t): str(o) for t, o in zip(self.columns["topic"], self.columns["owner"],
                                                strict=True)}

    def owner_of(self, topic: str) -> str:
        return self._owners.get(topic, UNOWNED)

    @cached_property
    def read_shares(self) -> dict[str, dict[str, float]]:
        """Per consumer group, the share of each topic's bytes out it reads
        (`cost/zones.read_shares`)."""
        return read_shares(self.snapshot)

    @cached_property
    def group_reads(self) -> dict[str, dict[str, float]]:
        """Per consumer group, the bytes/s it reads from each topic (0 where not measured)."""
        reads: dict[str, dict[str, float]] = {}
        for group in self.snapshot.groups:
            reads.setdefault(group.group, {})[group.topic] = float(
                group.bytes_out_per_second or 0.0)
        return reads
