"""Hourly usage series for a simulated fleet: diurnal and weekly cycles, growth, noise.

Generated per cluster (a `SeriesBlock`) so memory stays bounded on the large presets: the
`wix` fleet is 50,000 topics × 720 hours per metric.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costopt.simulate.fleet import Fleet, stable_seed, steady_state_log_size_bytes
from costopt.simulate.plants import shape_series


@dataclass(frozen=True)
class SeriesBlock:
    """One cluster's hourly series; arrays are [topic, hour], float32."""

    cluster: str
    topics: pd.DataFrame  # the cluster's rows of Fleet.topics, in array order
    hours: pd.DatetimeIndex
    bytes_in_per_second: np.ndarray
    bytes_out_per_second: np.ndarray
    messages_in_per_second: np.ndarray
    log_size_bytes: np.ndarray


def _cycles(hours: pd.DatetimeIndex) -> np.ndarray:
    hour_of_day = hours.hour.to_numpy()
    day_of_week = hours.day_of_week.to_numpy()
    diurnal = 1.0 + 0.35 * np.sin(2 * np.pi * (hour_of_day - 8) / 24)
    weekly = np.where(day_of_week >= 5, 0.75, 1.08)
    result: np.ndarray = (diurnal * weekly).astype(np.float32)
    return result


def cluster_series(fleet: Fleet, cluster: str) -> SeriesBlock:
    topics = fleet.topics[fleet.topics["cluster"] == cluster].reset_index(drop=True)
    hours = fleet.hours
    rng = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, "series"))
    days_before_end = ((hours - pd.Timestamp(fleet.end)) / pd.Timedelta(days=1)).to_numpy()
    growth = np.exp(np.outer(topics["growth_per_day"].to_numpy(), days_before_end))
    base = topics["base_bytes_in_per_second"].to_numpy()[:, None]
    noise = rng.lognormal(0.0, 0.12, size=(len(topics), len(hours)))
    bytes_in = (base * growth * _cycles(hours)[None, :] * noise).astype(np.float32)
    # DLQ topics are empty most hours, with short bursts.
    dlq = topics["is_dlq"].to_numpy()
    if dlq.any():
        bursts = rng.random((int(dlq.sum()), len(hours))) < 0.02
        bytes_in[dlq] = np.where(bursts, bytes_in[dlq] * 200, 0.0)
    readers = topics["active_readers"].to_numpy()[:, None]
    bytes_out = (bytes_in * readers).astype(np.float32)
    messages_in = (bytes_in / topics["stored_record_bytes"].to_numpy()[:, None]).astype(
        np.float32)
    steady = steady_state_log_size_bytes(topics).to_numpy()[:, None]
    compacted = (topics["cleanup_policy"] == "compact").to_numpy()[:, None]
    log_size = np.where(compacted, steady * (1 + 0.0005 * (days_before_end[None, :] + 30)),
                        steady * growth).astype(np.float32)
    return shape_series(fleet, SeriesBlock(cluster, topics, hours, bytes_in, bytes_out,
                                           messages_in, log_size))


def fleet_series(fleet: Fleet) -> Iterator[SeriesBlock]:
    for cluster in fleet.clusters["cluster"]:
        yield cluster_series(fleet, cluster)
