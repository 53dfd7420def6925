"""Queries over stored snapshots that chargeback needs: each group's committed offsets across
snapshots (what it read), and the snapshot a past month is estimated from.

Kept beside `store.py` rather than in it: they read the same tables, add none.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import and_, select

from costopt.store import schema
from costopt.store.store import Store, StoredSnapshot

OFFSET_COLUMNS = ["taken_at", "group", "topic", "committed_offset_sum",
                  "bytes_in_per_second", "messages_in_per_second"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def group_offsets(store: Store, cluster: str, since: datetime | None = None,
                  until: datetime | None = None) -> pd.DataFrame:
    """Per snapshot of `cluster` taken in [since, until]: each (group, topic)'s committed
    offset sum, with the topic's bytes and messages in per second at that snapshot (its bytes
    per message), oldest first."""
    groups, snapshots, topics = schema.snapshot_groups, schema.snapshots, schema.snapshot_topics
    query = (select(snapshots.c.taken_at, groups.c.group_name, groups.c.topic,
                    groups.c.committed_offset_sum, topics.c.bytes_in_per_second,
                    topics.c.messages_in_per_second)
             .join(snapshots, snapshots.c.id == groups.c.snapshot_id)
             .outerjoin(topics, and_(topics.c.snapshot_id == groups.c.snapshot_id,
                                     topics.c.name == groups.c.topic))
             .where(snapshots.c.cluster == cluster))
    if since is not None:
        query = query.where(snapshots.c.taken_at >= _utc(since))
    if until is not None:
        query = query.where(snapshots.c.taken_at <= _utc(until))
    with store.engine.connect() as connection:
        rows = connection.execute(query.order_by(snapshots.c.taken_at)).all()
    frame = pd.DataFrame(rows, columns=OFFSET_COLUMNS)
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
    for column in ("committed_offset_sum", "bytes_in_per_second", "messages_in_per_second"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def snapshot_before(store: Store, cluster: str, before: datetime) -> StoredSnapshot | None:
    """The cluster's last snapshot taken before `before` (a month's end), or None."""
    snapshots = schema.snapshots
    with store.engine.connect() as connection:
        snapshot_id = connection.execute(
            select(snapshots.c.id).where(snapshots.c.cluster == cluster,
                                         snapshots.c.taken_at < _utc(before))
            .order_by(snapshots.c.taken_at.desc()).limit(1)).scalar()
    return None if snapshot_id is None else store.snapshot(int(snapshot_id))
