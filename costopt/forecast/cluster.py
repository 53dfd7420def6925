"""Cluster forecasts with prediction intervals that mean what they say, and capacity runway.

Two models, each ordinary least squares (scikit-learn) with a trend and day-of-week
indicators: a **linear** trend in the values, and a **log-linear** one (steady percentage
growth, as most Kafka traffic grows). The one that forecast the history's own last third
better, from earlier points (a rolling-origin backtest), is kept.

The interval is not the residual spread of a fitted line: day-to-day noise averages out over
thousands of topics, while the level itself wanders (a service moves, a team backfills). The
residuals' variogram splits the two: γ(k) = σ_noise² + k·σ_drift²/2. The forecast variance at
`h` days ahead is then σ_noise² + h·σ_drift² (the level wanders on) + the uncertainty of the
fitted trend, which grows with h²; the interval widens with the horizon, uses Student's t for
the few degrees of freedom a month leaves, is widened where the model's own backtest erred more
than it expected, and spans both models' intervals (the doubt about which model is right).
Backtested coverage on simulated histories is in docs/cost-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy.stats import t as student_t
from sklearn import config_context
from sklearn.linear_model import LinearRegression

Z_95 = 1.96
MIN_POINTS = 7
MODELS = ("linear", "log-linear")


@dataclass(frozen=True)
class Forecast:
    metric: str
    unit: str
    model: str  # "linear" or "log-linear": the one that backtested better
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


WEEKLY_MIN_POINTS = 14  # two weeks before weekday effects are estimated, not guessed
BACKTEST_MIN_POINTS = 14  # a fit the backtest can trust: more points than parameters, twice
MAX_CALIBRATION = 4.0


def _features(ts: pd.DatetimeIndex, origin: pd.Timestamp, weekly: bool = True) -> np.ndarray:
    t = ((ts - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)[:, None]
    if not weekly:
        result: np.ndarray = t
        return result
    dow = np.zeros((len(ts), 6))
    days = ts.day_of_week.to_numpy()
    for d in range(6):
        dow[:, d] = days == d
    return np.hstack([t, dow])


@dataclass(frozen=True)
class _Fit:
    model: str
    regression: LinearRegression
    origin: pd.Timestamp
    t: np.ndarray  # days since origin of the fitted points
    weekly: bool  # with day-of-week effects
    noise_var: float  # σ_noise², in the model's space
    drift_var: float  # σ_drift² per day
    quantile: float  # of Student's t at 97.5%, for the residuals' degrees of freedom
    dof: int

    def level_scale(self, level: float) -> float:
        """How much narrower (or wider) the interval at `level` is than the 95% one."""
        return float(student_t.ppf((1 + level) / 2, self.dof)) / self.quantile

    def transform(self, y: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(y, 1e-9)) if self.model == "log-linear" else y

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.model == "log-linear" else z

    def predict(self, index: pd.DatetimeIndex, x: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Central forecast and the half-width of the 95% interval, in the model's space
        (`x`: the features of `index`, where the caller has them)."""
        x = _features(index, self.origin, self.weekly) if x is None else x
        z = _predicted(self.regression, x)
        n = len(self.t)
        ahead = np.maximum(x[:, 0] - self.t[-1], 0.0)
        spread_t = ((self.t - self.t.mean()) ** 2).sum()
        trend_var = self.noise_var * (1 / n + (x[:, 0] - self.t.mean()) ** 2
                                      / max(spread_t, 1e-9))
        drift_trend_var = ahead ** 2 * self.drift_var / max(n - 1, 1)
        variance = self.noise_var + ahead * self.drift_var + trend_var + drift_trend_var
        return z, self.quantile * np.sqrt(variance)


def _fit(model: str, index: pd.DatetimeIndex, y: np.ndarray, x: np.ndarray | None = None
         ) -> _Fit | None:
    """`x`: the features of `index` (`_features`), where the caller has them."""
    if model == "log-linear" and (y <= 0).any():
        return None
    origin = index[0]
    weekly = len(y) >= WEEKLY_MIN_POINTS
    x = _features(index, origin, weekly) if x is None else x
    z = np.log(y) if model == "log-linear" else y
    # Our own finite float features: scikit-learn's checks of them were a third of a fit's
    # time, and a cluster's forecasts make about fifty fits.
    with config_context(assume_finite=True, skip_parameter_validation=True):
        regression = LinearRegression().fit(x, z)
    residuals = z - _predicted(regression, x)
    dof = max(len(z) - x.shape[1] - 1, 1)
    noise_var, drift_var = _variogram(residuals, dof)
    return _Fit(model, regression, origin, x[:, 0], weekly, noise_var, drift_var,
                float(student_t.ppf(0.975, dof)), dof)


def _predicted(regression: LinearRegression, x: np.ndarray) -> np.ndarray:
    """`regression.predict(x)`, the same product, without scikit-learn's checks of its input
    (our own finite float features): they were most of a prediction's time, and a history's
    forecast makes a hundred."""
    predicted: np.ndarray = x @ regression.coef_ + regression.intercept_
    return predicted


def _variogram(residuals: np.ndarray, dof: int) -> tuple[float, float]:
    """σ_noise² and σ_drift² from γ(k) = σ_noise² + k·σ_drift²/2 over short lags, fitted by
    least squares and kept non-negative; without enough points, all of it is noise."""
    n = len(residuals)
    total = float((residuals ** 2).sum() / dof)
    lags = np.arange(1, max(2, n // 3) + 1)
    if n < 10 or len(lags) < 2:
        return total, 0.0
    # Residuals of a fitted model are smaller than the noise by the parameters it spent.
    gamma = np.array([0.5 * float(np.mean((residuals[k:] - residuals[:-k]) ** 2))
                      for k in lags]) * n / dof
    design = np.column_stack([np.ones(len(lags)), lags / 2])
    (noise, drift), *_ = np.linalg.lstsq(design, gamma, rcond=None)
    if drift < 0:
        return max(float(gamma.mean()), total), 0.0
    if noise < 0:
        return 0.0, float(drift)
    return float(noise), float(drift)


class _Fits:
    """Each model fitted once on each prefix of one history: choosing the model backtests both
    on the same prefixes that calibrating both intervals does, and the full history is fitted
    for the forecast and for the other model's interval (half the fits were repeats).
    Every prefix starts where the history does, so one feature matrix of the whole history
    serves every fit and backtest (its rows are what `_features` gives for any stretch)."""

    def __init__(self, index: pd.DatetimeIndex, y: np.ndarray) -> None:
        self.index, self.y = index, y
        self.features = _features(index, index[0])
        self._done: dict[tuple[str, int], _Fit | None] = {}

    def features_of(self, start: int, stop: int, weekly: bool) -> np.ndarray:
        """`_features(self.index[start:stop], self.index[0], weekly)`."""
        rows = self.features[start:stop]
        return rows if weekly else np.ascontiguousarray(rows[:, :1])

    def __call__(self, model: str, points: int | None = None) -> _Fit | None:
        key = (model, len(self.y) if points is None else points)
        if key not in self._done:
            self._done[key] = _fit(model, self.index[:key[1]], self.y[:key[1]],
                                   self.features_of(0, key[1], key[1] >= WEEKLY_MIN_POINTS))
        return self._done[key]


def _backtest_error(model: str, index: pd.DatetimeIndex, y: np.ndarray,
                    fits: _Fits | None = None) -> float:
    """Mean absolute error, relative to the level, forecasting the last third of the history
    from the points before it (rolling origin)."""
    fits = fits or _Fits(index, y)
    errors = []
    for origin in _backtest_origins(len(y)):
        fit = fits(model, origin)
        if fit is None:
            return float("inf")
        central, _ = fit.predict(index[origin:], fits.features_of(origin, len(y), fit.weekly))
        errors.extend(np.abs(fit.inverse(central) - y[origin:]) / max(abs(y[:origin].mean()),
                                                                      1e-9))
    return float(np.mean(errors)) if errors else float("inf")


def _calibration(fit_model: str, index: pd.DatetimeIndex, y: np.ndarray,
                 fits: _Fits | None = None) -> float:
    """How much wider the interval must be than the model says, from its own backtest: the
    root mean square of backtest errors in units of the forecast's standard deviation
    (at least 1: a backtest never narrows an interval)."""
    fits = fits or _Fits(index, y)
    scores = []
    for origin in _backtest_origins(len(y)):
        fit = fits(fit_model, origin)
        if fit is None:
            return 1.0
        central, half = fit.predict(index[origin:],
                                    fits.features_of(origin, len(y), fit.weekly))
        actual = fit.transform(y[origin:])
        scale = np.maximum(half / fit.quantile, 1e-9 * np.abs(actual) + 1e-12)
        scores.extend(((actual - central) / scale) ** 2)
    if not scores:
        return 1.0
    return min(MAX_CALIBRATION, max(1.0, float(np.sqrt(np.mean(scores)))))


def _backtest_origins(length: int) -> range:
    """Where the backtest starts forecasts from: the last third of the history, each fit on
    at least BACKTEST_MIN_POINTS points (none for a short history)."""
    return range(max(BACKTEST_MIN_POINTS, 2 * length // 3), length)


def choose_model(index: pd.DatetimeIndex, y: np.ndarray, fits: _Fits | None = None) -> str:
    fits = fits or _Fits(index, y)
    scores = {model: _backtest_error(model, index, y, fits) for model in MODELS}
    best = min(scores, key=lambda m: (scores[m], m))
    return best if np.isfinite(scores[best]) else "log-linear" if (y > 0).all() else "linear"


def forecast_series(values: pd.Series, metric: str, unit: str,
                    horizon_days: int, level: float = 0.95) -> Forecast | None:
    """`values` indexed by daily timestamps (UTC); `lower` and `upper` bound the central
    `level` of outcomes (95% by default; budgets use 80%)."""
    values = values.dropna()
    if len(values) < MIN_POINTS:
        return None
    index = pd.DatetimeIndex(values.index)
    y = values.to_numpy(dtype=float)
    fits = _Fits(index, y)
    model = choose_model(index, y, fits)
    fit = fits(model) or fits("linear")
    assert fit is not None
    future = pd.date_range(index[-1] + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    central, half = fit.predict(future)
    half = half * _calibration(fit.model, index, y, fits) * fit.level_scale(level)
    lower, upper = fit.inverse(central - half), fit.inverse(central + half)
    # The other model is the doubt about the choice: the interval covers both.
    other = fits("linear" if fit.model == "log-linear" else "log-linear")
    if other is not None:
        other_central, other_half = other.predict(future)
        other_half = other_half * _calibration(other.model, index, y, fits) \
            * other.level_scale(level)
        lower = np.minimum(lower, other.inverse(other_central - other_half))
        upper = np.maximum(upper, other.inverse(other_central + other_half))
    level = float(y[-7:].mean())
    slope = float(fit.regression.coef_[0])
    growth = slope * 30 if fit.model == "log-linear" else (slope * 30 / level if level else 0.0)
    return Forecast(
        metric=metric, unit=unit, model=fit.model,
        history=pd.DataFrame({"ts": index, "value": y}),
        forecast=pd.DataFrame({"ts": future, "value": fit.inverse(central),
                               "lower": lower, "upper": upper}),
        growth_per_month=growth,
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

