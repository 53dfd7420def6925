"""Forecast intervals mean what they say: on simulated histories with known noise (day-to-day
noise, a wandering level, steady or linear growth, weekly cycles), points held out after 30
days of history fall inside the 95% interval between 90% and 99% of the time, and intervals
widen with the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costopt.forecast.cluster import forecast_series

HISTORY_DAYS = 30
HELD_OUT_DAYS = 60


def simulated(rng: np.random.Generator, multiplicative: bool) -> pd.Series:
    days = pd.date_range("2026-01-01", periods=HISTORY_DAYS + HELD_OUT_DAYS, freq="D",
                         tz="UTC")
    t = np.arange(len(days), dtype=float)
    noise = rng.uniform(0.005, 0.05)
    drift = rng.uniform(0.0, 0.01)
    weekly = np.where(days.day_of_week >= 5, 1 - rng.uniform(0, 0.2), 1.0)
    wander = np.cumsum(rng.normal(0, drift, len(t)))
    level = rng.uniform(1e9, 1e12)
    if multiplicative:
        growth = rng.normal(0.003, 0.004)
        values = level * np.exp(growth * t + wander + rng.normal(0, noise, len(t))) * weekly
    else:
        slope = rng.normal(0.003, 0.004) * level
        values = (level + slope * t) * weekly * (1 + wander + rng.normal(0, noise, len(t)))
    return pd.Series(values, index=days)


def coverage(seed: int, multiplicative: bool, series_count: int = 150) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    inside = total = 0
    widening = []
    for _ in range(series_count):
        series = simulated(rng, multiplicative)
        fitted = forecast_series(series.iloc[:HISTORY_DAYS], "x", "bytes", HELD_OUT_DAYS)
        assert fitted is not None
        held_out = series.iloc[HISTORY_DAYS:].to_numpy()
        band = fitted.forecast
        inside += int(((held_out >= band["lower"]) & (held_out <= band["upper"])).sum())
        total += len(held_out)
        width = (band["upper"] - band["lower"]).to_numpy()
        widening.append(width[-1] / width[0])
    return inside / total, float(np.median(widening))


@pytest.mark.parametrize("multiplicative", [True, False], ids=["steady-growth", "linear"])
def test_held_out_points_fall_inside_the_95pct_interval_90_to_99pct_of_the_time(
        multiplicative: bool) -> None:
    share, widening = coverage(seed=11 if multiplicative else 12, multiplicative=multiplicative)
    assert 0.90 <= share <= 0.99, f"coverage {share:.3f}"
    assert widening > 1.5  # the interval at 60 days is wider than at 1 day


def test_the_model_is_chosen_by_backtest() -> None:
    days = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")
    t = np.arange(30, dtype=float)
    rng = np.random.default_rng(3)
    steady = pd.Series(1e9 * np.exp(0.05 * t + rng.normal(0, 0.01, 30)), index=days)
    straight = pd.Series(1e9 + 3e7 * t + rng.normal(0, 5e6, 30), index=days)
    fitted_steady = forecast_series(steady, "x", "bytes", 30)
    fitted_straight = forecast_series(straight, "x", "bytes", 30)
    assert fitted_steady is not None and fitted_steady.model == "log-linear"
    assert fitted_straight is not None and fitted_straight.model == "linear"
