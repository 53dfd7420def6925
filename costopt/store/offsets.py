"""Queries over stored snapshots that chargeback needs: each group's committed offsets across
snapshots (what it read), and the snapshot a past month is estimated from.

Kept beside `store.py` rather than in it: they read the same tables, add none.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from costopt.store import schema
from costopt.store.database import _driver_rows
from costopt.store.store import Store, StoredSnapshot

OFFSET_COLUMNS = ["taken_at", "group", "topic", "committed_offset_sum",
                  "bytes_in_per_second", "messages_in_per_second"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def group_offsets(store: Store, cluster: str, since: datetime | None = None,
                  until: datetime | None = None) -> pd.DataFrame:
    """Per snapshot of `cluster` taken in [since, until]: each (group, topic)'s committed
    offset sum, with the topic's bytes and messages in per second at that snapshot (its bytes
    per message), oldest first.

    One join, each group row to its topic at its snapshot through `snapshot_topics`' index on
    (snapshot, name) (migration 0016). A day of `wix` snapshots is 900,000 group rows for its
    largest cluster, so the rows are read as the driver gives them (`_driver_rows`) and each
    snapshot's time once, not per row."""
    groups, snapshots, topics = schema.snapshot_groups, schema.snapshots, schema.snapshot_topics
    window = [snapshots.c.cluster == cluster]
    if since is not None:
        window.append(snapshots.c.taken_at >= _utc(since))
    if until is not None:
        window.append(snapshots.c.taken_at <= _utc(until))
    with store.engine.connect() as connection:
        taken = connection.execute(select(snapshots.c.id, snapshots.c.taken_at)
                                   .where(*window)).all()
        rows = _driver_rows(connection, (
            select(groups.c.snapshot_id, groups.c.group_name, groups.c.topic,
                   groups.c.committed_offset_sum, topics.c.bytes_in_per_second,
                   topics.c.messages_in_per_second)
            .join(snapshots, snapshots.c.id == groups.c.snapshot_id)
            .outerjoin(topics, (topics.c.snapshot_id == groups.c.snapshot_id)
                       & (topics.c.name == groups.c.topic))
            .where(*window)))
    frame = pd.DataFrame(rows, columns=["snapshot_id", *OFFSET_COLUMNS[1:]])
    times = pd.Series(pd.to_datetime([row[1] for row in taken], utc=True),
                      index=[row[0] for row in taken])
    frame["taken_at"] = times.reindex(frame["snapshot_id"].to_numpy()).reset_index(drop=True)
    for column in ("committed_offset_sum", "bytes_in_per_second", "messages_in_per_second"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame.sort_values("taken_at", kind="stable", ignore_index=True)[OFFSET_COLUMNS]


def snapshot_before(store: Store, cluster: str, before: datetime) -> StoredSnapshot | None:
    """The cluster's last snapshot taken before `before` (a month's end), or None."""
    snapshots = schema.snapshots
    with store.engine.connect() as connection:
        snapshot_id = connection.execute(
            select(snapshots.c.id).where(snapshots.c.cluster == cluster,
                                         snapshots.c.taken_at < _utc(before))
            .order_by(snapshots.c.taken_at.desc()).limit(1)).scalar()
    return None if snapshot_id is None else store.snapshot(int(snapshot_id))
