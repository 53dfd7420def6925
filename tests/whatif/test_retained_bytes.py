"""What a retention cut frees, from the retained-bytes formula: at steady state and now."""

from __future__ import annotations

import numpy as np

from costopt.cost.formulas import STEADY_STATE_SHARE, log_bytes_after_retention_cut

DAY_MS = 86_400_000
RATE = 1_000.0  # bytes/s: 86.4 MB a day


def _cut(log: float, old_days: float, new_days: float, cap: float = -1.0,
         partitions: float = 1.0) -> tuple[float, float, float, bool]:
    kept, steady, now, full = log_bytes_after_retention_cut(
        np.array([log]), np.array([RATE]), np.array([old_days * DAY_MS]),
        np.array([new_days * DAY_MS]), np.array([cap]), np.array([partitions]))
    return float(kept[0]), float(steady[0]), float(now[0]), bool(full[0])


def test_a_full_time_bound_log_frees_the_difference_of_its_steady_states() -> None:
    week = RATE * 7 * 86_400
    kept, steady, now, full = _cut(week, 7, 1)
    assert full and steady == now == week * 6 / 7
    assert kept == week / 7


def test_where_retention_bytes_binds_a_time_cut_frees_nothing() -> None:
    cap = 20_000_000.0  # per partition, less than a day of the topic's bytes on 2 partitions
    kept, steady, now, full = _cut(2 * cap, 7, 1, cap=cap, partitions=2)
    assert full and steady == now == 0 and kept == 2 * cap


def test_a_log_younger_than_the_new_limit_frees_nothing_now() -> None:
    hours = RATE * 3 * 3600  # three hours old, cut to a day
    kept, steady, now, full = _cut(hours, 7, 1)
    assert not full and now == 0 and kept == hours
    assert steady == RATE * 6 * 86_400  # what it will free once it has run a week


def test_a_log_between_the_limits_frees_what_is_older_than_the_new_one_now() -> None:
    three_days = RATE * 3 * 86_400
    assert three_days < STEADY_STATE_SHARE * RATE * 7 * 86_400
    kept, _, now, full = _cut(three_days, 7, 1)
    assert not full and kept == RATE * 86_400 and now == three_days - kept


def test_data_kept_forever_is_cut_to_the_rate_over_the_new_limit() -> None:
    kept, steady, now, full = _cut(1e12, -1, 1)
    assert not full and steady == 0 and kept == RATE * 86_400 and now == 1e12 - kept
