"""Split integer micro-units over weights so the parts add up to the whole exactly.

Every split costopt makes of money (a topic's consumer side over the groups that read it, a
billed total over topics, a month's proration) goes through here: floats give the shares,
the largest-remainder method hands out the micro-units, so sums reconcile to the micro-unit
whatever the weights.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def apportion_groups(totals: npt.ArrayLike, group_index: npt.ArrayLike,
                     weights: npt.ArrayLike) -> IntArray:
    """Per row, its part of its group's total: `totals[g]` split over the rows with
    `group_index == g` in proportion to their `weights` (negative weights count as 0; a group
    whose weights are all 0 is split evenly). Each group's parts sum to its total exactly; a
    negative total is split as its magnitude, with its sign."""
    totals = np.asarray(totals, dtype=np.int64)
    groups = np.asarray(group_index, dtype=np.int64)
    w = np.clip(np.nan_to_num(np.asarray(weights, dtype=np.float64)), 0.0, None)
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    n_groups = len(totals)
    weight_sum = np.bincount(groups, weights=w, minlength=n_groups)
    count = np.bincount(groups, minlength=n_groups)
    row_sum = weight_sum[groups]
    share = np.where(row_sum > 0, w / np.where(row_sum > 0, row_sum, 1.0),
                     1.0 / np.maximum(count[groups], 1))
    magnitude = np.abs(totals)
    raw = magnitude[groups].astype(np.float64) * share
    base = np.floor(raw).astype(np.int64)
    given = np.zeros(n_groups, dtype=np.int64)
    np.add.at(given, groups, base)
    left = magnitude - given
    fraction = raw - base
    order = np.lexsort((-fraction, groups))
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.arange(len(order)) - starts
    extra = np.zeros(len(groups), dtype=np.int64)
    extra[order] = (rank < left[sorted_groups]).astype(np.int64)
    parts = base + extra
    # Float error can leave a group a micro-unit off: give the difference to its largest row.
    check = np.zeros(n_groups, dtype=np.int64)
    np.add.at(check, groups, parts)
    for group in np.flatnonzero((check != magnitude) & (count > 0)):
        rows = np.flatnonzero(groups == group)
        parts[rows[np.argmax(raw[rows])]] += magnitude[group] - check[group]
    result: np.ndarray = np.where(totals[groups] < 0, -parts, parts).astype(np.int64)
    return result


def apportion(total: int, weights: npt.ArrayLike) -> IntArray:
    """`total` split over `weights` exactly (one group)."""
    w = np.asarray(weights, dtype=np.float64)
    return apportion_groups([int(total)], np.zeros(len(w), dtype=np.int64), w)
