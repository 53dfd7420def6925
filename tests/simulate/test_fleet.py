"""The simulator: deterministic, realistic in shape, and at the advertised scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costopt.simulate.fleet import PLATFORM_TOPICS, generate_fleet
from costopt.simulate.presets import PRESETS, preset
from costopt.simulate.series import cluster_series
from tests.fleets import FIXED_END, fleet


def test_same_seed_same_fleet_and_different_seed_differs() -> None:
    first = generate_fleet(preset("small"), end=FIXED_END)
    again = generate_fleet(preset("small"), end=FIXED_END)
    other = generate_fleet(preset("small").with_seed(7), end=FIXED_END)
    pd.testing.assert_frame_equal(first.topics, again.topics)
    pd.testing.assert_frame_equal(first.groups, again.groups)
    pd.testing.assert_frame_equal(first.brokers, again.brokers)
    assert first.planted == again.planted
    cluster = first.clusters["cluster"].iloc[0]
    np.testing.assert_array_equal(cluster_series(first, cluster).bytes_in_per_second,
                                  cluster_series(again, cluster).bytes_in_per_second)
    assert not first.topics["topic"].equals(other.topics["topic"])


def test_presets_have_the_advertised_scale() -> None:
    small = fleet("small")
    platform = len(PLATFORM_TOPICS)  # every cluster also has its platform's topics
    assert len(small.clusters) == 3 and len(small.topics) == 300 + 3 * platform
    wix = fleet("wix")  # Wix in 2022: 50,000 topics, 500,000+ partitions, 2,200+ services
    assert len(wix.topics) == 50_000 + 12 * platform
    assert not wix.topics.duplicated(["cluster", "topic"]).any()
    ordinary = wix.topics[~wix.topics["is_platform"]]
    assert ordinary["topic"].is_unique
    assert 490_000 <= ordinary["partitions"].sum() <= 520_000
    services = wix.groups["group"].str.extract(r"-svc-(\d+)-g\d+$")[0]
    platform_groups = services.isna()  # Connect's workers, a ledger's service
    assert set(wix.groups.loc[platform_groups, "group"]) == {"connect-cluster", "balances-svc"}
    assert 9_700 <= wix.groups.loc[~platform_groups, "group"].nunique() <= 10_000
    assert services[~platform_groups].nunique() == 2_200
    assert PRESETS["huge"].topics == 100_000 and PRESETS["huge"].partitions == 1_000_000


def test_throughput_is_heavy_tailed_and_planted_shares_hold() -> None:
    wix = fleet("wix")
    live = wix.topics[~wix.topics["is_idle"] & ~wix.topics["is_dlq"]]
    rates = live["base_bytes_in_per_second"]
    p50, p99 = rates.quantile(0.5), rates.quantile(0.99)
    assert 1_500 < p50 < 6_000  # a few KB/s for the median topic
    assert p99 / p50 > 50  # lognormal: the top 1% dwarfs the median
    assert 500e6 < wix.topics["base_bytes_in_per_second"].sum() < 1_200e6  # ~Wix's 800 MB/s
    shares = {kind: len(items) / len(wix.topics) for kind, items in wix.planted.items()
              if kind != "abandoned_group"}
    assert shares["idle_topic"] == pytest.approx(0.08, abs=0.01)
    assert shares["over_partitioned"] == pytest.approx(0.04, abs=0.015)
    assert shares["over_retained"] == pytest.approx(0.065, abs=0.02)
    abandoned = wix.groups.loc[wix.groups["kind"] == "abandoned", "group"].nunique()
    assert abandoned / wix.groups["group"].nunique() == pytest.approx(0.10, abs=0.03)
    assert wix.topics["is_dlq"].mean() == pytest.approx(0.04, abs=0.01)
    assert (wix.topics["cleanup_policy"] == "compact").any()
    dlq_named = wix.topics["topic"].str.contains(r"\.(?:dlq|retry)(?:-\d+)?$")
    assert dlq_named.sum() == wix.topics["is_dlq"].sum()


def test_series_show_daily_and_weekly_cycles_and_growth() -> None:
    small = fleet("small")
    block = cluster_series(small, small.clusters["cluster"].iloc[0])
    total = pd.Series(block.bytes_in_per_second.sum(axis=0), index=block.hours)
    by_hour = total.groupby(total.index.hour).mean()
    assert by_hour.max() / by_hour.min() > 1.5  # diurnal swing
    weekend = total[total.index.day_of_week >= 5].mean()
    weekday = total[total.index.day_of_week < 5].mean()
    assert weekend < weekday * 0.85
    idle = block.topics["is_idle"].to_numpy()
    assert (block.bytes_in_per_second[idle] == 0).all()


def test_unknown_preset_is_named() -> None:
    with pytest.raises(ValueError, match="unknown fleet preset 'tiny2'"):
        preset("tiny2")
