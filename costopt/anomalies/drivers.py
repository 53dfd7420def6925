"""What drove an anomaly: the figure that moved, and the change behind it as the snapshots
either side of its start show it.

- the figure comes from the daily cost by component: storage → `stored_bytes`, producer
  traffic, replication and compute → `bytes_in`, consumer traffic → `bytes_out`, partition
  fees → `partitions` (a replication factor change names `replicas`);
- the change: a topic config diff (`retention.ms 86400000 → 2592000000`, in Kafka's config
  names), a codec change seen in the stored-to-raw ratio (bytes per message on the wire over
  the raw size of sampled records, `costopt.base.compression_ratios.observed_ratio`; the topic
  config often stays `producer`), a consumer group that was not there before and its owner, new
  partitions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from costopt.anomalies.detect import Episode
from costopt.base.compression_ratios import observed_ratio
from costopt.records.anomaly import Driver
from costopt.snapshot.cluster_snapshot import Topic
from costopt.store import Store, schema
from costopt.store.store import StoredSnapshot

FIGURES = {"storage_local": "stored_bytes", "storage_tiered": "stored_bytes",
           "network_replication": "bytes_in", "network_producer": "bytes_in",
           "compute": "bytes_in", "network_consumer": "bytes_out", "partitions": "partitions"}
CONFIG_NAMES = {"retention_ms": "retention.ms", "retention_bytes": "retention.bytes",
                "cleanup_policy": "cleanup.policy", "compression_type": "compression.type",
                "local_retention_ms": "local.retention.ms",
                "remote_storage_enable": "remote.storage.enable",
                "min_insync_replicas": "min.insync.replicas"}
# A codec change moves bytes per message by this factor or more (either way).
CODEC_STEP = 1.3


class SnapshotPair:
    """The cluster's stored snapshots either side of a day: the last one taken at or before
    its 00:00 UTC, and the newest one after it (loaded once each)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._times: dict[str, list[tuple[datetime, int]]] = {}
        self._loaded: dict[int, StoredSnapshot] = {}

    def _list(self, cluster: str) -> list[tuple[datetime, int]]:
        if cluster not in self._times:
            table = schema.snapshots
            with self.store.engine.connect() as connection:
                rows = connection.execute(select(table.c.taken_at, table.c.id).where(
                    table.c.cluster == cluster).order_by(table.c.taken_at)).all()
            self._times[cluster] = [(_utc(t), int(i)) for t, i in rows]
        return self._times[cluster]

    def _load(self, snapshot_id: int) -> StoredSnapshot:
        if snapshot_id not in self._loaded:
            self._loaded[snapshot_id] = self.store.snapshot(snapshot_id)
        return self._loaded[snapshot_id]

    def around(self, cluster: str, day: pd.Timestamp
               ) -> tuple[StoredSnapshot | None, StoredSnapshot | None]:
        listed = self._list(cluster)
        before = [i for t, i in listed if t <= day]
        after = [i for t, i in listed if t > day]
        return (self._load(before[-1]) if before else None,
                self._load(after[-1]) if after else None)

    def raw_record_bytes(self, cluster: str, topic: str) -> float | None:
        records = self.store.samples(cluster, topic)
        return sum(len(r) for r in records) / len(records) if records else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def moved_figure(rows: pd.DataFrame, days: pd.DatetimeIndex, episode: Episode,
                 components: tuple[str, ...] | None = None) -> tuple[str, dict[str, int]]:
    """The figure behind the component whose cost rose most between the day before the start
    and the last anomalous day, and each component's rise (micros a month)."""
    before_day = days[max(episode.start - 1, 0)]
    last_day = days[episode.end]
    wanted = components or tuple(FIGURES)
    if rows.empty:
        return "cost", {}
    sums = rows[rows["ts"].isin([before_day, last_day])].groupby("ts")[
        [f"{c}_micros" for c in wanted]].sum()
    if before_day not in sums.index or last_day not in sums.index:
        return "cost", {}
    rise = {c: int(sums.at[last_day, f"{c}_micros"] - sums.at[before_day, f"{c}_micros"])
            for c in wanted}
    top = max(rise, key=lambda c: rise[c])
    return FIGURES[top], rise


def usage_driver(rows: pd.DataFrame, days: pd.DatetimeIndex, episode: Episode,
                 components: tuple[str, ...] | None = None) -> Driver:
    """An owner's, cluster's or component's driver: the figure, and the topic that moved
    most (no snapshot diff: many topics may have moved a little)."""
    figure, rise = moved_figure(rows, days, episode, components)
    before_day, last_day = days[max(episode.start - 1, 0)], days[episode.end]
    totals = rows[rows["ts"].isin([before_day, last_day])].pivot_table(
        index="topic", columns="ts", values="total_micros", aggfunc="sum", fill_value=0)
    change = None
    if before_day in totals.columns and last_day in totals.columns and len(totals):
        delta = totals[last_day] - totals[before_day]
        top = str(delta.idxmax())
        change = f"largest mover: topic {top} ({int(delta.max()) / 1e6:+,.0f} a month)"
    return Driver(figure=figure, change=change, kind="usage", details={"rise_micros": rise})


def topic_driver(pair: SnapshotPair, cluster: str, topic: str, days: pd.DatetimeIndex,
                 episode: Episode, rows: pd.DataFrame, group_owner: Callable[[str], str]
                 ) -> Driver:
    """A topic's driver from the snapshots either side of the anomaly's first day."""
    mine = rows[(rows["cluster"] == cluster) & (rows["topic"] == topic)]
    figure, rise = moved_figure(mine, days, episode)
    before, after = pair.around(cluster, days[episode.start])
    details: dict[str, object] = {"rise_micros": rise}
    if before is None or after is None:
        return Driver(figure, None, "usage", details={**details,
                      "note": "no snapshot on one side of the start"})
    old = {t.name: t for t in before.snapshot.topics}.get(topic)
    new = {t.name: t for t in after.snapshot.topics}.get(topic)
    stamps = (before.snapshot.taken_at.isoformat(), after.snapshot.taken_at.isoformat())
    if old is None or new is None:
        return Driver(figure, "new topic" if old is None else None, "usage", *stamps, details)
    changes: list[tuple[str, str]] = []
    for name, config in CONFIG_NAMES.items():
        if getattr(old, name) != getattr(new, name):
            changes.append(("config", f"{config} {getattr(old, name)} → {getattr(new, name)}"))
    if new.partitions != old.partitions:
        changes.append(("new_partitions", f"partitions {old.partitions} → {new.partitions}"))
    if new.replication_factor != old.replication_factor:
        figure = "replicas"
        changes.append(("config", f"replication factor {old.replication_factor} → "
                                  f"{new.replication_factor}"))
    codec = _codec_change(pair, cluster, topic, old, new)
    if codec is not None:
        changes.append(("codec", codec))
    readers_before = {g.group for g in before.snapshot.groups if g.topic == topic}
    changes.extend(("new_consumer_group", f"new consumer group {group} (owner "
                                          f"{group_owner(group)})")
                   for group in sorted({g.group for g in after.snapshot.groups
                                        if g.topic == topic} - readers_before))
    if not changes:
        return Driver(figure, None, "usage", *stamps, details)
    # The change that explains the figure first: storage by config or codec, reads by a group.
    preferred = {"bytes_out": "new_consumer_group", "stored_bytes": "config",
                 "bytes_in": "codec", "partitions": "new_partitions"}.get(figure)
    changes.sort(key=lambda c: c[0] != preferred)
    return Driver(figure, "; ".join(text for _k, text in changes), changes[0][0], *stamps,
                  details)


def _codec_change(pair: SnapshotPair, cluster: str, topic: str, old: Topic, new: Topic
                  ) -> str | None:
    """The stored-to-raw ratio before and after, where bytes per message moved a codec's
    step (with records sampled, the ratio; without, bytes per message)."""
    if old.messages_in_per_second <= 0 or new.messages_in_per_second <= 0:
        return None
    per_old = old.bytes_in_per_second / old.messages_in_per_second
    per_new = new.bytes_in_per_second / new.messages_in_per_second
    step = per_new / max(per_old, 1e-9)
    if 1 / CODEC_STEP < step < CODEC_STEP:
        return None
    raw = pair.raw_record_bytes(cluster, topic)
    said = "records no longer compressed" if step > 1 else "records now compressed"
    if raw is None:
        return f"bytes per message {per_old:,.0f} → {per_new:,.0f} ({said})"
    ratios = [observed_ratio(t.bytes_in_per_second, t.messages_in_per_second, raw)
              for t in (old, new)]
    if ratios[0] is None or ratios[1] is None:
        return None
    return (f"stored-to-raw ratio {ratios[0]:.2f} → {ratios[1]:.2f} ({said}; "
            f"compression.type {new.compression_type})")

