"""The simulator's planted changes: each on its day, on its own topic, shaped in the series
and in the snapshots either side; none in a history too short to hold them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costopt.simulate.plants import PLANT_DAYS, RAISED_RETENTION_MS
from costopt.simulate.series import cluster_series
from costopt.simulate.snapshots import simulate_cluster, snapshots_before
from tests.fleets import fleet


def _daily(values: np.ndarray) -> np.ndarray:
    days: np.ndarray = values.reshape(-1, 24).mean(axis=1)
    return days


def test_three_changes_on_their_days_each_on_its_own_topic() -> None:
    small = fleet("small")
    assert [c.kind for c in small.changes] == list(PLANT_DAYS)
    assert len({(c.cluster, c.topic) for c in small.changes}) == 3
    for change in small.changes:
        assert change.at == small.start + pd.Timedelta(days=PLANT_DAYS[change.kind])
    assert fleet("tiny").changes == ()  # 14 days: the plant days are not in it


def test_each_change_shows_in_the_series_from_its_day() -> None:
    small = fleet("small")
    for change in small.changes:
        block = cluster_series(small, change.cluster)
        row = int(np.flatnonzero(block.topics["topic"].to_numpy() == change.topic)[0])
        day = change.day
        bytes_in = _daily(block.bytes_in_per_second[row])
        bytes_out = _daily(block.bytes_out_per_second[row])
        log = _daily(block.log_size_bytes[row])
        messages = _daily(block.messages_in_per_second[row])
        if change.kind == "compression_off":
            per_message = bytes_in / messages
            topic = block.topics.iloc[row]
            assert per_message[day] / per_message[day - 1] == pytest.approx(
                topic["raw_record_bytes"] / topic["stored_record_bytes"], rel=0.02)
        elif change.kind == "retention_raised":
            assert log[day - 1] < 1.1 * log[day - 2]  # a day's bytes before
            assert log[-1] > 5 * log[day - 1]  # then a day more each day
        else:
            reads_before = bytes_out[day - 1] / bytes_in[day - 1]
            reads_after = bytes_out[day] / bytes_in[day]
            assert reads_after - reads_before == pytest.approx(1.0, rel=0.02)


def test_a_snapshot_before_each_change_holds_what_was() -> None:
    small = fleet("small")
    for change in small.changes:
        simulated = simulate_cluster(small, change.cluster)
        [before] = [s for s in snapshots_before(small, simulated.series)
                    if s.taken_at == change.at]
        old, new = before.topic(change.topic), simulated.snapshot.topic(change.topic)
        assert old is not None and new is not None
        if change.kind == "retention_raised":
            assert (old.retention_ms, new.retention_ms) == (int(change.before),
                                                            RAISED_RETENTION_MS)
        elif change.kind == "new_consumer_group":
            assert change.group not in {g.group for g in before.groups}
            assert change.group in {g.group for g in simulated.snapshot.groups}
        else:
            assert new.bytes_in_per_second / new.messages_in_per_second > \
                2 * old.bytes_in_per_second / old.messages_in_per_second

