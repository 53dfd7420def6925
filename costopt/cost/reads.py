"""What each consumer group reads, measured from its committed offsets.

Kafka does not say how many bytes a group fetched, but it keeps every group's committed
offsets. Between two snapshots a group's offsets on a topic moved by some messages; times the
topic's bytes per message (bytes in / messages in, measured by the broker) that is the bytes
it read. Summed over the consecutive snapshots of a window and divided by the time they span,
it is the group's read rate: what splits a topic's consumer-side cost between its readers.

A pair of snapshots measures nothing where either lacks the offsets, where the offsets went
back (a reset or a recreated topic), or where the topic's bytes per message is unknown and
the offsets moved; a group with no such pair is not measured, and the split says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GroupReads = dict[tuple[str, str], float]  # (group, topic) -> bytes read per second


def bytes_per_message(bytes_in_per_second: pd.Series, messages_in_per_second: pd.Series
                      ) -> pd.Series:
    """The topic's bytes per message at each snapshot; NaN where nothing was produced."""
    ok = messages_in_per_second > 0
    return (bytes_in_per_second / messages_in_per_second.where(ok)).astype("float64")


def reads_from_offsets(offsets: pd.DataFrame) -> GroupReads:
    """Bytes per second each (group, topic) read over the snapshots in `offsets` (columns of
    `costopt.store.offsets.group_offsets`): offset progress between consecutive snapshots ×
    the topic's bytes per message, over the seconds those pairs span.

    Worked on integer codes of the (group, topic) pairs and plain arrays: a day of 15-minute
    snapshots is 900,000 rows for one `wix` cluster, and sorting and grouping them by their
    names was most of the analysis. Each pair's rows keep their order (by time, stably), so
    the sums, and every rate, are those of grouping by the names."""
    if offsets.empty:
        return {}
    group_codes, group_names = pd.factorize(offsets["group"])
    topic_codes, topic_names = pd.factorize(offsets["topic"])
    key = group_codes.astype(np.int64) * len(topic_names) + topic_codes
    taken = offsets["taken_at"]
    order = np.lexsort((taken.to_numpy(dtype="datetime64[ns]").view(np.int64), key))
    key = key[order]
    follows = np.concatenate([[False], key[1:] == key[:-1]])  # same pair as the row before
    committed = offsets["committed_offset_sum"].to_numpy(dtype="float64")[order]
    progress = committed - _previous(committed, follows)
    times = taken.iloc[order].reset_index(drop=True)
    seconds = (times - times.shift(1).where(follows)).dt.total_seconds().to_numpy()
    size = bytes_per_message(offsets["bytes_in_per_second"],
                             offsets["messages_in_per_second"]).to_numpy()[order]
    # Bytes per message of the pair: the later snapshot's, else the earlier one's.
    size = np.where(np.isnan(size), _previous(size, follows), size)
    with np.errstate(invalid="ignore"):
        read = np.where(progress != 0, progress * size, 0.0)  # no progress reads nothing
        valid = ~np.isnan(progress) & (progress >= 0) & (seconds > 0) & ~np.isnan(read)
    if not valid.any():
        return {}
    totals = pd.DataFrame({"key": key[valid], "bytes": read[valid],
                           "seconds": seconds[valid]}).groupby("key", sort=False).sum()
    totals = totals[totals["seconds"] > 0]
    rates = (totals["bytes"] / totals["seconds"]).to_numpy()
    keys = totals.index.to_numpy()
    found = {(str(group_names[k // len(topic_names)]), str(topic_names[k % len(topic_names)])):
             float(rate) for k, rate in zip(keys.tolist(), rates.tolist(), strict=True)}
    return dict(sorted(found.items()))


def _previous(values: np.ndarray, follows: np.ndarray) -> np.ndarray:
    """Each row's predecessor in its (group, topic) pair; NaN for a pair's first row."""
    shifted = np.concatenate([[np.nan], values[:-1]])
    return np.where(follows, shifted, np.nan)
