"""A cluster's stored history, as the rules read it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from costopt.base import units
from costopt.snapshot.metrics import SERIES_COLUMNS

SERIES = list(SERIES_COLUMNS)


@dataclass(frozen=True)
class History:
    """A cluster's stored history: daily means over the window, per-topic peaks (the largest
    value of each series at any resolution, hourly included), per-time cluster totals, each
    consumer group's record over the window, and the span actually observed.

    `observed_days` is the truth: a broker collected for six minutes has six minutes of
    history, whatever resolution its points were stored at. Evidence says so (`window`)."""

    daily: pd.DataFrame
    peaks: pd.DataFrame  # indexed by topic
    observed_days: float
    totals: pd.DataFrame | None = None  # resolution_seconds, ts, sums of SERIES per time
    groups: pd.DataFrame | None = None  # group, topic, max_lag_seconds, last_commit_at, ...

    @property
    def window_days(self) -> float:
        return self.observed_days

    @classmethod
    def empty(cls) -> History:
        return cls(pd.DataFrame(columns=["topic", "ts", "resolution_seconds", *SERIES]),
                   pd.DataFrame(columns=SERIES), 0.0)

    @classmethod
    def from_series(cls, series: pd.DataFrame, groups: pd.DataFrame | None = None,
                    observed_days: float | None = None) -> History:
        """From a frame of stored series (both resolutions), as the store would give it. The
        span observed is from the first point to the last, unless stated."""
        if series.empty:
            return replace(cls.empty(), groups=groups, observed_days=observed_days or 0.0)
        daily = series[series["resolution_seconds"] == 86_400].reset_index(drop=True)
        peaks = series.groupby("topic")[SERIES].max()
        span = (series["ts"].max() - series["ts"].min()).total_seconds() / 86_400
        totals = (series.groupby(["resolution_seconds", "ts"], as_index=False)[SERIES].sum()
                  .sort_values(["resolution_seconds", "ts"], ignore_index=True))
        return cls(daily, peaks, float(span) if observed_days is None else observed_days,
                   totals, groups)

    def window(self, needed_days: float | None = None) -> str:
        """The span evidence rests on, as observed: `30 d`, or `6 min observed (7 d needed)`
        where that is less than a rule needs."""
        observed = units.duration(self.observed_days * 86_400)
        if needed_days is not None and self.observed_days < needed_days:
            return f"{observed} observed ({units.duration(needed_days * 86_400)} needed)"
        return observed

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
