"""Cluster forecasts with prediction intervals, and capacity runway.

Model: ordinary least squares (scikit-learn) on daily points with a linear trend and
day-of-week indicators (weekly seasonality). The 95% interval is the residual spread widened
for distance from the data, as for any OLS prediction. Runway is the first day the upper or
central forecast crosses a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

Z_95 = 1.96
MIN_POINTS = 7


@dataclass(frozen=True)
class Forecast:
    metric: str
    unit: str
    history: pd.DataFrame  # ts, value
    forecast: pd.DataFrame  # ts, value, lower, upper
    growth_per_month: float  # relative, from the trend at the end of the history


@dataclass(frozen=True)
class Runway:
    resource: str
    limit: float
    unit: str
    current: float
    date: date | None  # None: not within the horizon
    days: int | None


@dataclass(frozen=True)
class ClusterForecast:
    cluster: str
    horizon_days: int
    forecasts: dict[str, Forecast]
    runways: list[Runway]


def _features(ts: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    t = ((ts - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)[:, None]
    dow = np.zeros((len(ts), 6))
    days = ts.day_of_week.to_numpy()
    for d in range(6):
        dow[:, d] = days == d
    return np.hstack([t, dow])


def forecast_series(values: pd.Series, metric: str, unit: str,
                    horizon_days: int) -> Forecast | None:
    """`values` indexed by daily timestamps (UTC)."""
    values = values.dropna()
    if len(values) < MIN_POINTS:
        return None
    index = pd.DatetimeIndex(values.index)
    origin = index[0]
    x = _features(index, origin)
    y = values.to_numpy(dtype=float)
    model = LinearRegression().fit(x, y)
    residuals = y - model.predict(x)
    dof = max(len(y) - x.shape[1] - 1, 1)
    sigma = float(np.sqrt((residuals ** 2).sum() / dof))
    future = pd.date_range(index[-1] + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    fx = _features(future, origin)
    predicted = model.predict(fx)
    t = x[:, 0]
    spread = np.sqrt(1 + 1 / len(t) + (fx[:, 0] - t.mean()) ** 2 / ((t - t.mean()) ** 2).sum())
    half_width = Z_95 * sigma * spread
    slope = float(model.coef_[0])
    level = float(y[-7:].mean()) if len(y) >= 7 else float(y.mean())
    return Forecast(
        metric=metric, unit=unit,
        history=pd.DataFrame({"ts": index, "value": y}),
        forecast=pd.DataFrame({"ts": future, "value": predicted,
                               "lower": predicted - half_width,
                               "upper": predicted + half_width}),
        growth_per_month=slope * 30 / level if level else 0.0,
    )


def runway(forecast: Forecast | None, resource: str, limit: float, unit: str,
           current: float, today: datetime) -> Runway:
    if current >= limit:
        return Runway(resource, limit, unit, current, today.date(), 0)
    if forecast is None:
        return Runway(resource, limit, unit, current, None, None)
    crossing = forecast.forecast[forecast.forecast["value"] >= limit]
    if crossing.empty:
        return Runway(resource, limit, unit, current, None, None)
    when = pd.Timestamp(crossing["ts"].iloc[0]).date()
    return Runway(resource, limit, unit, current, when, (when - today.date()).days)


def cluster_forecast(cluster: str, daily: pd.DataFrame, replication: pd.Series,
                     disk_capacity_bytes: float, partition_replicas: float,
                     partition_limit: float, today: datetime, horizon_days: int = 90,
                     max_disk_fill: float = 0.85) -> ClusterForecast:
    """`daily`: the cluster's daily topic series; `replication`: RF by topic."""
    forecasts: dict[str, Forecast] = {}
    if not daily.empty:
        frame = daily.copy()
        frame["rf"] = frame["topic"].map(replication).fillna(1.0)
        frame["stored"] = frame["log_size_bytes"] * frame["rf"]
        totals = frame.groupby("ts").agg(stored=("stored", "sum"),
                                         bytes_in=("bytes_in_per_second", "sum"))
        # The last day is partial in a live collect; drop it from the fit.
        totals = totals.iloc[:-1] if len(totals) > MIN_POINTS else totals
        for metric, column, unit in (("disk_used_bytes", "stored", "bytes"),
                                     ("bytes_in_per_second", "bytes_in", "bytes/s")):
            result = forecast_series(totals[column], metric, unit, horizon_days)
            if result is not None:
                forecasts[metric] = result
    disk_now = (float(forecasts["disk_used_bytes"].history["value"].iloc[-1])
                if "disk_used_bytes" in forecasts else 0.0)
    runways = [
        runway(forecasts.get("disk_used_bytes"), "disk", disk_capacity_bytes * max_disk_fill,
               "bytes", disk_now, today),
        Runway("partitions", partition_limit, "partition replicas", partition_replicas,
               today.date() if partition_replicas >= partition_limit else None,
               0 if partition_replicas >= partition_limit else None),
    ]
    return ClusterForecast(cluster, horizon_days, forecasts, runways)

