"""Each per-topic figure costopt keeps as history, declared once: the snapshot field and
stored column it becomes, its unit, and which of a dialect's queries give it now (instant)
and over time (range). The collector, the store and the rules read this table, so a figure
is added in one place (and in each dialect's queries, `sources/prometheus/queries.py`).

The order is the store's: series blocks hold these columns in this order on disk
(`store/series_blocks.py`). Append; never reorder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesMetric:
    column: str  # snapshot field, stored column and history column
    unit: str
    instant_query: str  # the DialectQueries field for the snapshot's figure
    range_query: str  # the DialectQueries field for its history, one point per step
    is_rate: bool  # a rate (a missing point is a scrape gap) rather than a gauge


SERIES_METRICS: tuple[SeriesMetric, ...] = (
    SeriesMetric("bytes_in_per_second", "bytes/s", "bytes_in_rate", "bytes_in_range", True),
    SeriesMetric("bytes_out_per_second", "bytes/s", "bytes_out_rate", "bytes_out_range", True),
    SeriesMetric("messages_in_per_second", "messages/s", "messages_in_rate",
                 "messages_in_range", True),
    SeriesMetric("log_size_bytes", "bytes", "log_size_bytes", "log_size_range", False),
)
SERIES_COLUMNS: tuple[str, ...] = tuple(m.column for m in SERIES_METRICS)
RATE_COLUMNS: tuple[str, ...] = tuple(m.column for m in SERIES_METRICS if m.is_rate)
