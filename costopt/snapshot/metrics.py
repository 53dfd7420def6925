"""Every figure costopt reads from a metrics source, declared once (`Figure`, as Cruise
Control's `RawMetricType`), and the per-topic figures it keeps as history: the snapshot field
and stored column each becomes, its unit, and whether it is a rate.

Each dialect maps a figure to its query (`sources/prometheus/queries.py`, one entry per figure
it exports, now and over time) and the recording rules map a figure to its recorded series
(`sources/prometheus/recording_rules.py`); a collect's answers are keyed by the figure. So a new
figure is one member here and one entry per dialect.

The order of `SERIES_METRICS` is the store's: series blocks hold these columns in this order
on disk (`store/series_blocks.py`). Append; never reorder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Figure(StrEnum):
    """What a query or a recorded series measures. The value names its answers."""

    BYTES_IN = "bytes_in"  # bytes/s produced, per topic
    BYTES_OUT = "bytes_out"  # bytes/s fetched, per topic
    MESSAGES_IN = "messages_in"  # messages/s produced, per topic
    LOG_SIZE = "log_size"  # bytes of one replica's log, per topic
    PARTITIONS = "partitions"  # per topic
    REPLICATION_FACTOR = "replication_factor"  # per topic
    # Per topic, how many partitions have each replica count (label `REPLICAS_LABEL`): the
    # partition count and the RF from one selection of the same series.
    PARTITION_REPLICAS = "partition_replicas"
    RETAINED_MESSAGES = "retained_messages"  # per topic, where bytes are not exported
    GROUP_LAG = "group_lag_messages"  # per group and topic
    GROUP_MAX_LAG = "group_max_lag_messages"  # per group and topic, over the history
    GROUP_MEMBERS = "group_members"  # per group
    BROKER_CPU = "broker_cpu"  # per broker (scrape target)
    BROKER_DISK = "broker_disk_used_bytes"  # per broker: every replica it holds
    PRINCIPAL_BYTES_IN = "principal_bytes_in"  # bytes/s per principal (Confluent Cloud)
    PRINCIPAL_BYTES_OUT = "principal_bytes_out"


REPLICAS_LABEL = "costopt_replicas"  # Figure.PARTITION_REPLICAS: partitions with this many


@dataclass(frozen=True)
class SeriesMetric:
    column: str  # snapshot field, stored column and history column
    unit: str
    figure: Figure  # what a dialect's queries read for it, now and over time
    is_rate: bool  # a rate (a missing point is a scrape gap) rather than a gauge


SERIES_METRICS: tuple[SeriesMetric, ...] = (
    SeriesMetric("bytes_in_per_second", "bytes/s", Figure.BYTES_IN, True),
    SeriesMetric("bytes_out_per_second", "bytes/s", Figure.BYTES_OUT, True),
    SeriesMetric("messages_in_per_second", "messages/s", Figure.MESSAGES_IN, True),
    SeriesMetric("log_size_bytes", "bytes", Figure.LOG_SIZE, False),
)
SERIES_COLUMNS: tuple[str, ...] = tuple(m.column for m in SERIES_METRICS)
RATE_COLUMNS: tuple[str, ...] = tuple(m.column for m in SERIES_METRICS if m.is_rate)
