"""Where the hourly and daily series are kept: one compressed block per cluster, resolution
and time (`series_blocks.py`), topic names numbered per cluster."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from costopt.store import schema, series_blocks
from costopt.store.database import Database, RefusedData, _insert_many

SERIES_COLUMNS = series_blocks.COLUMNS  # costopt/snapshot/metrics.py


def epoch_seconds(timestamps: pd.Series) -> Any:
    """Unix seconds of timestamps, whatever unit pandas holds them in (ns, us, s)."""
    utc = pd.to_datetime(timestamps, utc=True)
    return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")


@dataclass(frozen=True)
class SeriesHistory:
    daily: pd.DataFrame  # cluster, topic, ts, resolution_seconds, SERIES_COLUMNS
    peaks: pd.DataFrame  # indexed by topic: each series' largest value at any resolution
    totals: pd.DataFrame  # resolution_seconds, ts, the cluster's sums of SERIES_COLUMNS
    span_seconds: float  # from the first stored point to the last


class SeriesRecords(Database):
    """The cluster's series: written with its snapshot, read by analysis."""

    def _replace_series(self, connection: Connection, cluster: str, series: pd.DataFrame) -> None:
        """Replace the covered time range per resolution, so re-collecting a window is a no-op:
        every stored time inside it goes, and each time in `series` becomes one block."""
        blocks = schema.series_blocks
        duplicated = series.duplicated(["topic", "resolution_seconds", "ts"])
        if duplicated.any():
            row = series[duplicated].iloc[0]
            raise RefusedData(f"cluster {cluster}: series of topic {row['topic']!r} has two "
                             f"points at {row['ts']} ({int(row['resolution_seconds'])} s); "
                             "nothing was stored")
        ids = self._topic_ids(connection, cluster, series["topic"].unique())
        for resolution, part in series.groupby("resolution_seconds"):
            seconds = epoch_seconds(part["ts"])
            connection.execute(delete(blocks).where(
                blocks.c.cluster == cluster, blocks.c.resolution_seconds == int(resolution),
                blocks.c.ts_seconds >= int(seconds.min()),
                blocks.c.ts_seconds <= int(seconds.max())))
            topic_ids = part["topic"].map(ids).to_numpy(dtype=np.int32)
            values = part[list(SERIES_COLUMNS)].to_numpy(dtype=np.float64)
            order = np.argsort(seconds, kind="stable")
            seconds, topic_ids, values = seconds[order], topic_ids[order], values[order]
            starts = np.flatnonzero(np.r_[True, seconds[1:] != seconds[:-1]])
            ends = np.r_[starts[1:], len(seconds)]
            rows = [{"cluster": cluster, "resolution_seconds": int(resolution),
                     "ts_seconds": int(seconds[a]), "rows": int(b - a),
                     "payload": series_blocks.encode(topic_ids[a:b], values[a:b])}
                    for a, b in zip(starts, ends, strict=True)]
            for first in range(0, len(rows), 500):
                connection.execute(insert(blocks), rows[first:first + 500])

    def _topic_ids(self, connection: Connection, cluster: str, names: Any) -> dict[str, int]:
        """Each topic's id in the cluster's series blocks, new ones numbered after the last."""
        table = schema.series_topics
        known = {row.topic: int(row.topic_id) for row in connection.execute(
            select(table.c.topic, table.c.topic_id).where(table.c.cluster == cluster))}
        new = [str(name) for name in names if str(name) not in known]
        if new:
            start = max(known.values(), default=-1) + 1
            added = {name: start + i for i, name in enumerate(new)}
            _insert_many(connection, table, ({"cluster": cluster, "topic": name,
                                              "topic_id": topic_id}
                                             for name, topic_id in added.items()))
            known.update(added)
        return known

    def _topic_names(self, connection: Connection, cluster: str) -> np.ndarray:
        """Topic names indexed by id."""
        table = schema.series_topics
        rows = connection.execute(select(table.c.topic_id, table.c.topic).where(
            table.c.cluster == cluster)).all()
        names = np.empty(max((int(r[0]) for r in rows), default=-1) + 1, dtype=object)
        for topic_id, topic in rows:
            names[int(topic_id)] = topic
        return names

    def _blocks(self, cluster: str, resolution_seconds: int | None = None
                ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """(resolution, ts, topic names, topic ids, values) per stored block, oldest first."""
        blocks = schema.series_blocks
        query = select(blocks.c.resolution_seconds, blocks.c.ts_seconds, blocks.c.payload) \
            .where(blocks.c.cluster == cluster)
        if resolution_seconds is not None:
            query = query.where(blocks.c.resolution_seconds == resolution_seconds)
        with self.engine.connect() as connection:
            names = self._topic_names(connection, cluster)
            rows = connection.execute(query.order_by(blocks.c.resolution_seconds,
                                                     blocks.c.ts_seconds)).all()
        for resolution, ts, payload in rows:
            topic_ids, values = series_blocks.decode(bytes(payload))
            yield int(resolution), int(ts), names, topic_ids, values

    def last_series_time(self, cluster: str) -> datetime | None:
        """The newest hourly point stored for the cluster: where an incremental collect starts."""
        table = schema.series_blocks
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(table.c.ts_seconds)).where(
                table.c.cluster == cluster, table.c.resolution_seconds == 3600)).scalar()
        return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)

    def series(self, cluster: str, topic: str | None = None,
               resolution_seconds: int | None = None) -> pd.DataFrame:
        """Stored series as a frame with `ts` as UTC timestamps, ordered by topic, time and
        resolution."""
        parts = []
        for resolution, ts, names, topic_ids, values in self._blocks(cluster,
                                                                     resolution_seconds):
            rows = np.ones(len(topic_ids), dtype=bool) if topic is None else \
                names[topic_ids] == topic
            if not rows.any():
                continue
            parts.append(_block_frame(names, topic_ids[rows], values[rows], resolution, ts))
        frame = _points_frame(parts, cluster).sort_values(
            ["topic", "ts", "resolution_seconds"], kind="stable", ignore_index=True)
        frame["resolution_seconds"] = frame["resolution_seconds"].astype("int64")
        for name in SERIES_COLUMNS:
            frame[name] = frame[name].astype("float64")
        return frame

    def series_history(self, cluster: str) -> SeriesHistory:
        """What analysis reads of a cluster's series, in one pass over its blocks: the daily
        points, each topic's peak of every series at any resolution, the cluster's totals per
        time, and the span the points cover."""
        daily: list[tuple[np.ndarray, np.ndarray, int]] = []  # (topic ids, values, time)
        totals: list[tuple[int, int, *tuple[float, ...]]] = []
        peaks = np.empty((0, len(SERIES_COLUMNS)))
        seen = np.zeros(0, dtype=bool)
        first = last = None
        names = np.array([], dtype=object)
        for resolution, ts, names, topic_ids, values in self._blocks(cluster):
            if len(peaks) < len(names):  # names are the cluster's: sized at the first block
                peaks = np.full((len(names), len(SERIES_COLUMNS)), -np.inf)
                seen = np.zeros(len(names), dtype=bool)
            count = len(topic_ids)
            if count and topic_ids[0] == 0 and topic_ids[-1] == count - 1 \
                    and _ascending_from_zero(topic_ids):
                # The usual block (every topic, in id order): a slice, updated in place,
                # rather than a gather and a scatter of every row.
                np.maximum(peaks[:count], values, out=peaks[:count])
                seen[:count] = True
            else:
                peaks[topic_ids] = np.maximum(peaks[topic_ids], values)
                seen[topic_ids] = True
            # einsum adds a column's rows in one pass; `sum(axis=0)` strides across rows.
            totals.append((resolution, ts, *np.einsum("ij->j", values).tolist()))
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
            if resolution == 86_400:
                daily.append((topic_ids, values, ts))
        # One frame of every daily block's rows, built once (a frame per block and a concat
        # took a quarter of the history's read).
        daily_frame = _points_frame([_block_frame(
            names, np.concatenate([ids for ids, _, _ in daily]),
            np.concatenate([values for _, values, _ in daily]), 86_400,
            np.concatenate([np.full(len(ids), ts, dtype=np.int64) for ids, _, ts in daily]))]
            if daily else [], cluster)
        peaks_frame = pd.DataFrame(peaks[seen], columns=list(SERIES_COLUMNS),
                                   index=pd.Index(names[:len(seen)][seen], name="topic"))
        totals_frame = pd.DataFrame(totals, columns=["resolution_seconds", "ts_seconds",
                                                     *SERIES_COLUMNS])
        totals_frame.insert(1, "ts", pd.to_datetime(
            totals_frame.pop("ts_seconds").astype("int64"), unit="s", utc=True))
        span = (float(last - first) if first is not None and last is not None else 0.0)
        return SeriesHistory(daily_frame, peaks_frame, totals_frame, span)


def _ascending_from_zero(ids: np.ndarray) -> bool:
    """Whether a block's ids are 0, 1, 2, ... in order (its first is 0 and last n − 1)."""
    return bool((np.diff(ids) == 1).all())


def _block_frame(names: np.ndarray, topic_ids: np.ndarray, values: np.ndarray,
                 resolution: int, ts: int | np.ndarray) -> pd.DataFrame:
    """Blocks' points (or some of them) as rows: topic, resolution, time (one, or per row),
    the series."""
    part = pd.DataFrame(values, columns=list(SERIES_COLUMNS))
    part.insert(0, "topic", names[topic_ids])
    part.insert(1, "resolution_seconds", resolution)
    part.insert(2, "ts_seconds", ts)
    return part


def _points_frame(parts: list[pd.DataFrame], cluster: str) -> pd.DataFrame:
    """Blocks' rows as one frame of the cluster, `ts` as UTC timestamps."""
    columns = ["topic", "resolution_seconds", "ts_seconds", *SERIES_COLUMNS]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame.insert(2, "ts", pd.to_datetime(frame.pop("ts_seconds").astype("int64"), unit="s",
                                          utc=True))
    frame.insert(0, "cluster", cluster)
    return frame
