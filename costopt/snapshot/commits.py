"""When each consumer group last committed, carried from snapshot to snapshot.

Kafka's Admin API gives a group's committed offsets, not when they were committed. Comparing
each snapshot with the one before tells: offsets that moved were committed in between. A
nightly job's group is Empty for 23 hours a day and still moves its offsets once a day; that
is what makes it a reader rather than an abandoned group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from costopt.snapshot.cluster_snapshot import ClusterSnapshot, ConsumerGroup


def with_commit_times(snapshot: ClusterSnapshot,
                      previous: Iterable[ConsumerGroup] = ()) -> ClusterSnapshot:
    """`snapshot` with each group's `last_commit_at` set from the previous snapshot's groups:
    now where its committed offsets moved (or it has members and was not seen before), the
    previous value where they did not, unknown where nothing tells."""
    before = {(g.group, g.topic): g for g in previous}
    groups = []
    for group in snapshot.groups:
        if group.last_commit_at is not None:
            groups.append(group)
            continue
        old = before.get((group.group, group.topic))
        if old is None or old.committed_offset_sum is None or \
                group.committed_offset_sum is None:
            last = snapshot.taken_at if group.members > 0 else (
                old.last_commit_at if old is not None else None)
        elif group.committed_offset_sum != old.committed_offset_sum:
            last = snapshot.taken_at
        else:
            last = old.last_commit_at
        groups.append(replace(group, last_commit_at=last))
    return replace(snapshot, groups=tuple(groups))
