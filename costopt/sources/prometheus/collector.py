"""What costopt needs from Prometheus for one cluster: per-topic usage now, per-group lag,
per-broker load, and history at two resolutions (daily over the whole window, hourly for the
last days). Fetching every topic hourly for 30 days is as costly to parse as it is for
Prometheus to compute (hundreds of MB of JSON at fleet scale), so it is not done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from costopt.sources.errors import SourceError
from costopt.sources.prometheus.client import PrometheusClient, matrix_to_frame, vector_to_series
from costopt.sources.prometheus.queries import (
    CATALOG,
    DETECTION,
    DialectQueries,
    cluster_selector,
    presence_metric,
    presence_query,
    render,
)

TOPIC_COLUMNS = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                 "log_size_bytes", "partitions", "replication_factor", "retained_messages")
SERIES_COLUMNS = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                  "log_size_bytes")


@dataclass(frozen=True)
class CollectWindow:
    at: datetime  # end of the window (the snapshot's time)
    window_seconds: int = 3600  # usage figures are averages over this
    lookback_seconds: int = 600  # a gauge's last sample may be this old
    history_days: int = 30
    hourly_days: int = 7
    since: datetime | None = None  # incremental: fetch history only after this


@dataclass(frozen=True)
class PrometheusData:
    dialect: str
    topics: pd.DataFrame  # index: topic; TOPIC_COLUMNS (NaN where the dialect has no figure)
    groups: pd.DataFrame  # group, topic, lag_messages, max_lag_messages, members
    brokers: pd.DataFrame  # instance, cpu_utilisation, disk_used_bytes
    series: pd.DataFrame  # topic, ts, resolution_seconds, SERIES_COLUMNS
    queries: list[str]


def detect_dialect(client: PrometheusClient, start: datetime, end: datetime,
                   selector: str | None = None) -> str:
    """The dialect of the cluster's own series (`selector`): one Prometheus often holds
    clusters scraped by different exporters."""
    names = client.metric_names(start, end, "{" + selector + "}" if selector else None)
    for dialect, metric in DETECTION:
        if metric in names:
            return dialect
    scope = f" for {selector}" if selector else ""
    raise SourceError(
        f"Prometheus at {client.settings.url} has none of the Kafka metrics costopt knows"
        f"{scope} (looked for {', '.join(m for _, m in DETECTION)}) between "
        f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M}: is the exporter scraped? "
        "Set prometheus.dialect to force one")


def collect_prometheus(client: PrometheusClient, window: CollectWindow,
                       dialect: str = "auto") -> PrometheusData:
    history_start = window.at - timedelta(days=window.history_days)
    settings = client.settings
    sel = cluster_selector(settings.cluster_label,
                           settings.cluster_label_value or client.cluster)
    if dialect == "auto":
        dialect = detect_dialect(client, history_start, window.at, sel)
    queries = CATALOG[dialect]
    history_seconds = int((window.at - (window.since or history_start)).total_seconds())

    def q(template: str, window_seconds: int | None = None) -> str:
        return render(template, sel=sel, window_seconds=window_seconds or window.window_seconds,
                      lookback_seconds=window.lookback_seconds,
                      history_seconds=max(history_seconds, window.window_seconds))

    sent: list[str] = []
    jobs: dict[str, Callable[[], Any]] = {}
    presence = q(presence_query(dialect))
    sent.append(presence)
    jobs["presence"] = partial(client.instant, presence, window.at)
    for name in ("bytes_in_rate", "bytes_out_rate", "messages_in_rate", "log_size_bytes",
                 "partitions", "replication_factor", "retained_messages",
                 "group_lag_messages", "group_max_lag_messages", "group_members",
                 "broker_cpu", "broker_disk_used_bytes"):
        template = getattr(queries, name)
        if template is not None:
            text = q(template)
            sent.append(text)
            jobs[name] = partial(client.instant, text, window.at)
    for resolution, start in _history_ranges(window):
        step = resolution
        for name in ("bytes_in_range", "bytes_out_range", "messages_in_range",
                     "log_size_range"):
            template = getattr(queries, name)
            if template is not None:
                text = q(template, window_seconds=step)
                sent.append(text)
                jobs[f"{name}@{resolution}"] = partial(
                    client.range, text, start + timedelta(seconds=step), window.at, step)
    results = client.run_all(jobs)
    if not results["presence"]:
        raise SourceError(
            f"Prometheus at {settings.url} has no {presence_metric(dialect)} samples for "
            f"cluster {client.cluster} ({sel}) in the {window.lookback_seconds} s before "
            f"{window.at:%Y-%m-%d %H:%M:%S} UTC: its exporter stopped reporting or is no "
            "longer scraped, so no snapshot is stored for this window")
    topics = _topic_frame(results, queries, sent)
    return PrometheusData(dialect=dialect, topics=topics,
                          groups=_group_frame(results, queries, sent),
                          brokers=_broker_frame(results, sent),
                          series=_series_frame(results, queries, window, topics),
                          queries=sent)


def _history_ranges(window: CollectWindow) -> list[tuple[int, datetime]]:
    """(step seconds, first window start) for daily and hourly history, aligned to the step,
    not reaching back past `since` (incremental collects) beyond one step of overlap."""
    ranges = []
    for step, days in ((86_400, window.history_days), (3_600, window.hourly_days)):
        end = _floor(window.at, step)
        start = end - timedelta(days=days)
        if window.since is not None:
            start = max(start, _floor(window.since, step) - timedelta(seconds=step))
        if start < end:
            ranges.append((step, start))
    return ranges


def _floor(moment: datetime, step_seconds: int) -> datetime:
    seconds = int(moment.timestamp()) // step_seconds * step_seconds
    return datetime.fromtimestamp(seconds, tz=moment.tzinfo)


def _labelled(results: dict[str, Any], name: str, label: str, sent: list[str]) -> pd.Series:
    if name not in results:
        return pd.Series(dtype=float)
    return vector_to_series(results[name], label, name)


def _from_label(results: dict[str, Any], name: str, label: str, value_label: str) -> pd.Series:
    """kminion puts partition counts and RF in labels of an info metric."""
    values = {}
    for item in results.get(name, []):
        metric = item["metric"]
        if label in metric and value_label in metric:
            values[metric[label]] = float(metric[value_label])
    return pd.Series(values, dtype=float)


def _topic_frame(results: dict[str, Any], queries: DialectQueries,
                 sent: list[str]) -> pd.DataFrame:
    label = queries.topic_label
    columns = {
        "bytes_in_per_second": _labelled(results, "bytes_in_rate", label, sent),
        "bytes_out_per_second": _labelled(results, "bytes_out_rate", label, sent),
        "messages_in_per_second": _labelled(results, "messages_in_rate", label, sent),
        "log_size_bytes": _labelled(results, "log_size_bytes", label, sent),
        "retained_messages": _labelled(results, "retained_messages", label, sent),
    }
    if label == "topic_name":
        columns["partitions"] = _from_label(results, "partitions", label, "partition_count")
        columns["replication_factor"] = _from_label(results, "replication_factor", label,
                                                    "replication_factor")
    else:
        columns["partitions"] = _labelled(results, "partitions", label, sent)
        columns["replication_factor"] = _labelled(results, "replication_factor", label, sent)
    frame = pd.DataFrame(columns)
    for column in TOPIC_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    if queries.log_size_all_replicas:
        frame["log_size_bytes"] = frame["log_size_bytes"] / frame["replication_factor"]
    frame.index.name = "topic"
    return frame[list(TOPIC_COLUMNS)].sort_index()


def _group_frame(results: dict[str, Any], queries: DialectQueries,
                 sent: list[str]) -> pd.DataFrame:
    columns = ["group", "topic", "lag_messages", "max_lag_messages", "members"]
    if queries.group_label is None or "group_lag_messages" not in results:
        return pd.DataFrame(columns=columns)
    g, t = queries.group_label, queries.topic_label

    def pairs(name: str) -> pd.Series:
        values = {(item["metric"].get(g), item["metric"].get(t)): float(item["value"][1])
                  for item in results.get(name, [])}
        return pd.Series(values, dtype=float)

    lag = pairs("group_lag_messages")
    max_lag = pairs("group_max_lag_messages")
    members = _labelled(results, "group_members", g, sent)
    frame = pd.DataFrame({"lag_messages": lag, "max_lag_messages": max_lag})
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["group", "topic"])
    frame = frame.reset_index()
    frame["members"] = frame["group"].map(members).fillna(0)
    return frame[columns]


def _broker_frame(results: dict[str, Any], sent: list[str]) -> pd.DataFrame:
    cpu = _labelled(results, "broker_cpu", "instance", sent)
    disk = _labelled(results, "broker_disk_used_bytes", "instance", sent)
    frame = pd.DataFrame({"cpu_utilisation": cpu, "disk_used_bytes": disk})
    frame.index.name = "instance"
    return frame.reset_index()


def _series_frame(results: dict[str, Any], queries: DialectQueries, window: CollectWindow,
                  topics: pd.DataFrame) -> pd.DataFrame:
    label = queries.topic_label
    frames = []
    for resolution, _ in _history_ranges(window):
        parts = {}
        for column, name in (("bytes_in_per_second", "bytes_in_range"),
                             ("bytes_out_per_second", "bytes_out_range"),
                             ("messages_in_per_second", "messages_in_range"),
                             ("log_size_bytes", "log_size_range")):
            key = f"{name}@{resolution}"
            if key in results:
                part = matrix_to_frame(results[key], label, key)
                parts[column] = part.set_index([label, "ts_seconds"])["value"]
        if not parts:
            continue
        frame = pd.DataFrame(parts).reset_index().rename(columns={label: "topic"})
        # A point at t covers (t - step, t]: store it at the window's start.
        frame["ts"] = pd.to_datetime(frame["ts_seconds"] - resolution, unit="s", utc=True)
        frame["resolution_seconds"] = resolution
        frames.append(frame.drop(columns=["ts_seconds"]))
    if not frames:
        return pd.DataFrame(columns=["topic", "ts", "resolution_seconds", *SERIES_COLUMNS])
    series = pd.concat(frames, ignore_index=True)
    for column in SERIES_COLUMNS:
        if column not in series:
            series[column] = np.nan
    # A point with no rate at all is a gap in the scrapes (a gauge may still have a sample
    # at its edge), not an hour without traffic: drop it rather than let it become a zero.
    rates = ["bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"]
    series = series[series[rates].notna().any(axis=1)].reset_index(drop=True)
    if queries.log_size_all_replicas:
        series["log_size_bytes"] = series["log_size_bytes"] / series["topic"].map(
            topics["replication_factor"])
    return series
