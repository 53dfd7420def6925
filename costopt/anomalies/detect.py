"""Which items' daily cost left their own recent behaviour, and when they came back.

Each item (a topic, an owner, a cluster, a cluster's component) has a daily series of
monthly-rate cost. Its test is against itself:
- weekly seasonality: a per-weekday factor, the median over the history of each day's cost
  over its centred 7-day mean (a step change moves one week's ratios, not the median);
- trend: on the deseasonalised series, the level of the last 7 days (median) moved on by the
  slope between the medians of the two weeks before (so steady growth is expected, not
  flagged);
- noise: the median absolute deviation (scipy, normal-scaled) of those 14 days around that
  line.
A day opens an anomaly when its excess over the expectation is above `sigmas` noise AND above
the impact floor (an absolute monthly-rate amount and a share of the item's expected cost).
The expectation is then frozen (level and slope at the opening) and the anomaly stays open
while the excess stays above half the floor; its impact is the latest day's excess over
the expectation on that weekday's scale (what a snapshot of that day prices). Only
rises are anomalies: spend going wrong, not a quiet day.

Everything is vectorised over items ([items, days] arrays), so 50,000 topics take seconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

WINDOW_DAYS = 14  # two weeks of own history before a day is tested
HALF = WINDOW_DAYS // 2


@dataclass(frozen=True)
class Floor:
    """An anomaly must move the item's monthly rate by at least `amount_micros` AND
    `share` of its expected cost."""

    amount_micros: int
    share: float
    sigmas: float = 4.0


@dataclass(frozen=True)
class Episode:
    """One item's anomaly: first day, last day tested (open) or the day it came back."""

    item: int
    start: int
    end: int  # the last anomalous day
    resolved_day: int | None
    expected_micros: float  # the expectation on the last anomalous day (its weekday's)
    observed_micros: float  # the cost that day
    impact_micros: float  # observed - expected: the monthly-rate change


def weekday_factors(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """[items, 7] multiplicative weekday factors (mean 1 over the week)."""
    frame = pd.DataFrame(values.T)
    centred = frame.rolling(7, center=True).mean().to_numpy().T
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(centred > 0, values / centred, np.nan)
    factors = np.ones((len(values), 7))
    for day in range(7):
        columns = ratio[:, weekdays == day]
        if columns.shape[1] and not np.all(np.isnan(columns)):
            with warnings.catch_warnings():  # an item with no cost that weekday: NaN, then 1
                warnings.simplefilter("ignore", RuntimeWarning)
                found = np.nanmedian(columns, axis=1)
            factors[:, day] = np.where(np.isnan(found), 1.0, found)
    mean = factors.mean(axis=1, keepdims=True)
    result: np.ndarray = factors / np.where(mean > 0, mean, 1.0)
    return result


def _expectation(series: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected deseasonalised value at day `t` from the 14 days before it, the slope per
    day, and the noise (normal-scaled MAD around that line)."""
    window = series[:, t - WINDOW_DAYS:t]
    early = np.median(window[:, :HALF], axis=1)
    late = np.median(window[:, HALF:], axis=1)
    slope = (late - early) / HALF
    # The late median sits at day t - 4 (the middle of the last seven).
    expected = late + slope * (HALF + 1) / 2
    line = late[:, None] + slope[:, None] * (np.arange(WINDOW_DAYS) - (WINDOW_DAYS - 1 - 3))
    noise = median_abs_deviation(window - line, axis=1, scale="normal")
    return expected, slope, noise


def detect(values: np.ndarray, days: pd.DatetimeIndex, floor: Floor) -> list[Episode]:
    """Anomalies in `values` ([items, days], monthly-rate micros per day)."""
    items, count = values.shape
    if count <= WINDOW_DAYS or items == 0:
        return []
    weekdays = np.asarray(days.day_of_week)
    factors = weekday_factors(values, weekdays)
    series = values / factors[:, weekdays]
    episodes: list[Episode] = []
    open_start = np.full(items, -1)
    frozen_level = np.zeros(items)
    frozen_slope = np.zeros(items)
    last = np.zeros((items, 3))  # end day, expected, observed of the open episode
    for t in range(WINDOW_DAYS, count):
        expected, slope, noise = _expectation(series, t)
        is_open = open_start >= 0
        # An open anomaly is measured against the expectation frozen at its opening.
        expected = np.where(is_open, frozen_level + frozen_slope * (t - open_start), expected)
        # Compared on the day's own scale (its weekday), as a snapshot of that day prices it.
        factor = factors[:, weekdays[t]]
        excess = values[:, t] - expected * factor
        floor_now = np.maximum(floor.amount_micros,
                               floor.share * np.maximum(expected * factor, 0))
        opens = ~is_open & (excess > floor_now) & (excess > floor.sigmas * noise * factor)
        stays = is_open & (excess > floor_now / 2)
        episodes.extend(_episode(int(item), int(open_start[item]), last[item], t)
                        for item in np.flatnonzero(is_open & ~stays))
        open_start = np.where(is_open & ~stays, -1, open_start)
        open_start = np.where(opens, t, open_start)
        frozen_level = np.where(opens, expected, frozen_level)
        frozen_slope = np.where(opens, slope, frozen_slope)
        now = opens | stays
        last[now] = np.column_stack([np.full(int(now.sum()), t), expected[now] * factor[now],
                                     values[now, t]])
    episodes.extend(_episode(int(item), int(open_start[item]), last[item], None)
                    for item in np.flatnonzero(open_start >= 0))
    return episodes


def _episode(item: int, start: int, last: np.ndarray, resolved: int | None) -> Episode:
    end, expected, observed = int(last[0]), float(last[1]), float(last[2])
    return Episode(item, start, end, resolved, expected, observed, observed - expected)


def moved_parts(parts: np.ndarray, now: np.ndarray, days: pd.DatetimeIndex, start: int,
                share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per part of an item (its cost components, [parts, days]): the expectation for today
    (frozen at `start`, as the item's) and a mask of the parts that moved by `share` of their
    own expectation or more. An item's impact is the rise of the parts that moved: the others
    (bytes a new reader does not change) carry only their own noise."""
    weekdays = np.asarray(days.day_of_week)
    factors = weekday_factors(parts, weekdays)
    series = parts / factors[:, weekdays]
    start = max(start, WINDOW_DAYS)
    expected, slope, _noise = _expectation(series, start)
    today = len(days) - 1
    expected_now = (expected + slope * (today - start)) * factors[:, weekdays[today]]
    moved = (now - expected_now) >= share * np.maximum(expected_now, 0)
    return expected_now, moved
