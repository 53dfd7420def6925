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
    the topic's bytes per message, over the seconds those pairs span."""
    if offsets.empty:
        return {}
    frame = offsets.sort_values(["group", "topic", "taken_at"], kind="stable").copy()
    frame["bpm"] = bytes_per_message(frame["bytes_in_per_second"],
                                     frame["messages_in_per_second"])
    keys = [frame["group"], frame["topic"]]
    previous = frame.groupby(keys, sort=False).shift(1)
    progress = frame["committed_offset_sum"] - previous["committed_offset_sum"]
    seconds = (frame["taken_at"] - previous["taken_at"]).dt.total_seconds()
    # Bytes per message of the pair: the later snapshot's, else the earlier one's.
    bpm = frame["bpm"].fillna(previous["bpm"])
    read = progress * bpm
    read = read.where(progress != 0, 0.0)  # no progress reads nothing, whatever the size
    valid = progress.notna() & (progress >= 0) & (seconds > 0) & read.notna()
    pairs = pd.DataFrame({"group": frame["group"], "topic": frame["topic"],
                          "bytes": np.where(valid, read, 0.0),
                          "seconds": np.where(valid, seconds, 0.0)})[valid.to_numpy()]
    if pairs.empty:
        return {}
    totals = pairs.groupby(["group", "topic"], sort=False)[["bytes", "seconds"]].sum()
    return {(str(g), str(t)): float(row.bytes / row.seconds)
            for (g, t), row in totals.iterrows() if row.seconds > 0}
