"""Per-topic growth rates from daily series: the slope of log(bytes in) over time, computed for
every topic at once (a fleet has tens of thousands)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_DAYS = 7


def topic_growth_per_day(series: pd.DataFrame, column: str = "bytes_in_per_second"
                         ) -> pd.Series:
    """Exponential growth rate per day by topic (0.01 ≈ +1%/day); topics with fewer than a
    week of non-zero points, or idle, get 0."""
    daily = series[(series["resolution_seconds"] == 86_400) & (series[column] > 0)]
    if daily.empty:
        return pd.Series(dtype=float)
    t = (daily["ts"] - daily["ts"].min()).dt.total_seconds().to_numpy() / 86_400
    y = np.log(daily[column].to_numpy(dtype=float))
    frame = pd.DataFrame({"topic": daily["topic"].to_numpy(), "t": t, "y": y})
    frame["ty"] = frame["t"] * frame["y"]
    frame["tt"] = frame["t"] * frame["t"]
    sums = frame.groupby("topic").agg(n=("t", "size"), t=("t", "sum"), y=("y", "sum"),
                                      ty=("ty", "sum"), tt=("tt", "sum"))
    denominator = sums["n"] * sums["tt"] - sums["t"] ** 2
    slope = (sums["n"] * sums["ty"] - sums["t"] * sums["y"]) / denominator.replace(0, np.nan)
    slope = slope.where(sums["n"] >= MIN_DAYS, 0.0).fillna(0.0)
    # Clip implausible rates from noisy short series: ±10% a day.
    return slope.clip(-0.1, 0.1)
