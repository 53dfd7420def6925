"""What costopt needs from Prometheus for one cluster: per-topic usage now, per-group lag,
per-broker load, and history at two resolutions (daily over the whole window, hourly for the
last days). Fetching every topic hourly for 30 days is as costly to parse as it is for
Prometheus to compute (hundreds of MB of JSON at fleet scale), so it is not done.

A collect starts with a census (one request): how many series each metric has, how often they
are sampled, whether costopt's recording rules are recording for the cluster and since when.
Where the rules cover a window, its per-topic figures come from the recorded series (O(topics));
elsewhere from the raw exporter series, in as many pieces as the server's limits need
(`query_plan.py`), with a warning, once, that the rules would make it cheaper.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from costopt.snapshot.metrics import (
    RATE_COLUMNS,
    REPLICAS_LABEL,
    SERIES_COLUMNS,
    SERIES_METRICS,
    Figure,
)
from costopt.sources.prometheus.client import PrometheusClient, matrix_to_frame, vector_to_series
from costopt.sources.prometheus.fetch import execute
from costopt.sources.prometheus.queries import (
    CATALOG,
    DETECTION,
    DialectQueries,
    current_recorded,
    current_recorded_metrics,
    history_key,
    presence_metric,
    recorded_metrics,
    recorded_query,
)
from costopt.sources.prometheus.query_plan import (
    PART_LABEL,
    Budget,
    Census,
    Spec,
    fold,
    plan,
    shards_needed,
)
from costopt.sources.prometheus.recording_rules import CURRENT_GRAIN, FIGURES, GRAINS, RULES_PATH
from costopt.sources.source_errors import SourceError

log = logging.getLogger("costopt.sources.collect")
TOPIC_COLUMNS = (*SERIES_COLUMNS, "partitions", "replication_factor", "retained_messages")
PRINCIPAL_COLUMNS = ("principal_id", "bytes_in_per_second", "bytes_out_per_second")
DAY = 86_400
_WARNED: set[tuple[str, str]] = set()  # (server, cluster) told about the rules already
_WARNED_LOCK = threading.Lock()
SAMPLES_LABEL = "costopt_samples"  # the census's count_values label: samples in a series
CENSUS_REUSE_SECONDS = 3_600  # an incremental collect counts every raw metric hourly


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
    queries: list[str]  # every query sent, the census first
    recorded: tuple[str, ...] = ()  # the figures read from recorded series, if any
    refused: int = 0  # queries the server refused as too large and that were split
    # principal_id, bytes_in_per_second, bytes_out_per_second (cluster-wide; Confluent only)
    principals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(PRINCIPAL_COLUMNS)))
    not_measured: dict[str, str] = field(default_factory=dict)  # figure -> why
    census: Census | None = None  # what the planner knew; the next collect may reuse it


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
                       dialect: str = "auto",
                       progress: Callable[[str], None] | None = None,
                       census: Census | None = None) -> PrometheusData:
    """Everything costopt reads from Prometheus for one cluster and window; `progress` hears
    how many of the collect's queries are answered. `census`: the cluster's last collect's
    (`PrometheusData.census`), which an incremental collect may reuse (`_census`)."""
    history_start = window.at - timedelta(days=window.history_days)
    settings = client.settings
    sel = client.selector
    if dialect == "auto":
        dialect = detect_dialect(client, history_start, window.at, sel)
    queries = CATALOG[dialect]
    history_seconds = int((window.at - (window.since or history_start)).total_seconds())
    spans = {"window": window.window_seconds, "lookback": window.lookback_seconds,
             "history": max(history_seconds, window.window_seconds),
             "rec_lookback": _rec_lookback(window, _grain(window.window_seconds))}
    ranges = _history_ranges(window)
    at = window.at.timestamp()
    use_rules = settings.recording_rules != "off" and dialect in FIGURES
    census, sent = _census(client, sel, dialect, queries, window, ranges, use_rules, census)
    coverage = _coverage(client, sel, dialect, census, window, ranges, use_rules, sent)
    specs = _specs(dialect, queries, sel, spans, ranges, at, coverage, census)
    budget = Budget(settings.max_samples, settings.max_samples_read)
    needed = shards_needed(specs, census, budget)
    if needed:
        census.by_label.update(_spreads(client, sel, sorted(needed), window, sent))
    requests = plan(specs, census, budget)

    def spread(metric: str, label: str) -> dict[str, int]:
        return _spreads(client, sel, [(metric, label)], window, sent)[(metric, label)]

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(f"{client.cluster}: {done}/{total} Prometheus queries")

    outcome = execute(client, requests, census, spread, report)
    sent.extend(request.text() for request in requests)
    recorded = tuple(sorted({spec.name for spec in specs if spec.query.grain_seconds}))
    raw_history = [spec for spec in specs if not spec.instant and not spec.query.grain_seconds]
    pieces = sum(len(request.pieces) for request in requests)
    if dialect in FIGURES and raw_history and (pieces > len(specs) or outcome.refused):
        _warn_once(client, sel, len(requests), outcome.refused)
    results = _without_totals(outcome.results, specs, queries.topic_label)
    topics = _topic_frame(results, queries)
    return PrometheusData(dialect=dialect, topics=topics,
                          groups=_group_frame(results, queries),
                          brokers=_broker_frame(results),
                          series=_series_frame(results, queries, window, topics),
                          queries=sent, recorded=recorded, refused=outcome.refused,
                          principals=_principal_frame(results, queries),
                          not_measured=dict(queries.not_measured), census=census)


def _census(client: PrometheusClient, sel: str, dialect: str, queries: DialectQueries,
            window: CollectWindow, ranges: list[tuple[int, datetime]],
            use_rules: bool, previous: Census | None = None) -> tuple[Census, list[str]]:
    """One request: series per metric now, samples per series per second, and whether (and
    since when, roughly) the recording rules record for this cluster.

    An incremental collect given a census counted within the hour (`previous`, the cluster's
    last collect's) counts only the presence metric's series, as it must to know that the
    exporter still reports; while that count is unchanged, the other raw metrics' counts are
    the previous census's, which spares Prometheus reading every one of their series (a
    fifth of its CPU in an incremental collect of the bench's `wix` fleet). A changed count
    (topics or brokers came or went) has everything counted again."""
    lookback = f"{window.lookback_seconds}s"
    presence = presence_metric(dialect)
    metrics = sorted({q.reads for _, q in (*queries.current(), *queries.over_time())}
                     | {presence})
    at = window.at.timestamp()
    reuse = (window.since is not None and previous is not None
             and previous.counted_at is not None
             and 0 <= at - previous.counted_at <= CENSUS_REUSE_SECONDS
             and all(metric in previous.series for metric in metrics))
    # The presence metric's series counted by their samples in the lookback: how many
    # series, and the most samples one holds, from one selection of its series.
    parts: list[tuple[str, str]] = [
        (f"series:{m}", f'count_values("{SAMPLES_LABEL}", count_over_time({m}{{{sel}}}'
                        f"[{lookback}]))" if m == presence
         else f"count(last_over_time({m}{{{sel}}}[{lookback}]))")
        for m in ([presence] if reuse else metrics)]
    if use_rules:
        for index, metric in enumerate(recorded_metrics(dialect)):
            recent = f"{_rec_lookback(window, list(GRAINS)[index % len(GRAINS)])}s"
            parts.append((f"series:{metric}",
                          f"count(last_over_time({metric}{{{sel}}}[{recent}]))"))
        for metric in current_recorded_metrics(dialect):
            recent = f"{_rec_lookback(window, CURRENT_GRAIN)}s"
            parts.append((f"series:{metric}",
                          f"count(last_over_time({metric}{{{sel}}}[{recent}]))"))
        for grain, start in _grain_starts(window, ranges).items():
            metric = recorded_metrics(dialect)[list(GRAINS).index(grain)]
            parts.append((f"probe:{grain}", _probe(metric, sel, start, window.at,
                                                   GRAINS[grain])))
    text = fold([expr for _, expr in parts])
    values: dict[str, float] = {}
    scrapes = 1.0
    for item in client.instant(text, window.at):
        tag = item["metric"].get(PART_LABEL)
        if tag is None or not tag.isdigit() or int(tag) >= len(parts):
            raise SourceError(f"Prometheus at {client.settings.url} answered the census "
                              f"without its part labels: {item['metric']!r}")
        key = parts[int(tag)][0]
        try:
            values[key] = values.get(key, 0.0) + float(item["value"][1])
            if SAMPLES_LABEL in item["metric"]:
                scrapes = max(scrapes, float(item["metric"][SAMPLES_LABEL]))
        except (TypeError, ValueError, IndexError):
            raise SourceError(f"Prometheus at {client.settings.url} answered the census "
                              f"with a non-numeric sample {item.get('value')!r}") from None
    series = {key.split(":", 1)[1]: int(value) for key, value in values.items()
              if key.startswith("series:")}
    if not series.get(presence):
        raise SourceError(
            f"Prometheus at {client.settings.url} has no {presence} samples for cluster "
            f"{client.cluster} ({sel}) in the {window.lookback_seconds} s before "
            f"{window.at:%Y-%m-%d %H:%M:%S} UTC: its exporter stopped reporting or is no "
            "longer scraped, so no snapshot is stored for this window")
    counted_at = at
    if reuse and previous is not None:
        if series[presence] != previous.series[presence]:
            census, texts = _census(client, sel, dialect, queries, window, ranges, use_rules)
            return census, [text, *texts]
        series.update({metric: previous.series[metric] for metric in metrics
                       if metric != presence})
        counted_at = previous.counted_at or at
    for metric in metrics:
        series.setdefault(metric, 0)  # counted, none: a later census may reuse the zero
    census = Census(series=series, samples_per_second=scrapes / window.lookback_seconds,
                    counted_at=counted_at)
    census.series.update({key: int(value) for key, value in values.items()
                          if key.startswith("probe:")})
    return census, [text]


def _probe(metric: str, sel: str, start: datetime, at: datetime, grain: int) -> str:
    """Recorded samples in the two grains after `start` (or up to `at` if nearer)."""
    until = min(start + timedelta(seconds=2 * grain), at)
    width = max(int((until - start).total_seconds()), grain)
    offset = int((at - until).total_seconds())
    shift = f" offset {offset}s" if offset > 0 else ""
    return f"count(last_over_time({metric}{{{sel}}}[{width}s]{shift}))"


def _grain_starts(window: CollectWindow, ranges: list[tuple[int, datetime]]
                  ) -> dict[str, datetime]:
    """The earliest window each grain of recorded series would serve."""
    starts: dict[str, datetime] = {}
    instant_grain = _grain(window.window_seconds)
    starts[instant_grain] = window.at - timedelta(seconds=window.window_seconds)
    for step, start in ranges:
        grain = _grain(step)
        starts[grain] = min(starts.get(grain, start), start)
    return starts


def _rec_lookback(window: CollectWindow, grain: str) -> int:
    return _rec_lookback_seconds(window.lookback_seconds, grain)


def _rec_lookback_seconds(lookback_seconds: int, grain: str) -> int:
    """How old the last recorded sample may be: two evaluations of its group."""
    return max(lookback_seconds, 2 * GRAINS[grain] + 60)


def _grain(step_seconds: int) -> str:
    """Daily figures from the hourly grain, finer ones from the 5-minute grain."""
    return "1h" if step_seconds >= DAY else "5m"


def _coverage(client: PrometheusClient, sel: str, dialect: str, census: Census,
              window: CollectWindow, ranges: list[tuple[int, datetime]], use_rules: bool,
              sent: list[str]) -> dict[str, float | None]:
    """Per grain, the time from which recorded series cover every later window (None: not
    recorded now). Where the census probe found them at the start already, no query."""
    coverage: dict[str, float | None] = dict.fromkeys(GRAINS)
    if not use_rules:
        return coverage
    metrics = recorded_metrics(dialect)
    missing = [m for m in metrics if not census.count(m)]
    mode = client.settings.recording_rules
    if missing and mode == "on":
        raise SourceError(
            f"prometheus.recording_rules is on, but Prometheus at {client.settings.url} has "
            f"no {', '.join(missing)} series for cluster {client.cluster} ({sel}) in the "
            f"last two evaluations of their rules before "
            f"{window.at:%Y-%m-%d %H:%M:%S} UTC: load {RULES_PATH} into it (and backfill "
            "them, docs/collection.md), or set recording_rules to auto")
    starts = _grain_starts(window, ranges)
    for index, grain in enumerate(GRAINS):
        grain_metrics = metrics[index::len(GRAINS)]
        if any(not census.count(m) for m in grain_metrics):
            continue
        if census.count(f"probe:{grain}") or grain not in starts:
            coverage[grain] = -math.inf
            continue
        coverage[grain] = _first_recorded(client, grain_metrics[0], sel, starts[grain],
                                          window.at, sent)
    return coverage


def _first_recorded(client: PrometheusClient, metric: str, sel: str, start: datetime,
                    at: datetime, sent: list[str]) -> float:
    """The first hour end from which the recorded series exist (the rules began then)."""
    text = f"count(last_over_time({metric}{{{sel}}}[1h]))"
    sent.append(text)
    first = start + timedelta(hours=1)
    if first > at:
        return at.timestamp()
    stamps = [float(stamp) for item in client.range(text, first, at, 3600)
              for stamp, value in item["values"] if float(value) > 0]
    return min(stamps) if stamps else at.timestamp()


def _specs(dialect: str, queries: DialectQueries, sel: str, spans: dict[str, int],
           ranges: list[tuple[int, datetime]], at: float,
           coverage: dict[str, float | None], census: Census) -> list[Spec]:
    specs: list[Spec] = []
    for figure, query in queries.current():
        # Current figures the rules record (all those standing in for the query) are read
        # wherever the census finds them now.
        current = current_recorded(dialect, figure)
        if current and all(census.count(q.reads) for q in current.values()):
            current_spans = {**spans, "rec_lookback": _rec_lookback_seconds(
                spans["lookback"], CURRENT_GRAIN)}
            specs.extend(Spec(answer, q, sel, current_spans, at, 1, 0, True)
                         for answer, q in current.items())
            continue
        grain = _grain(spans["window"])
        recorded = recorded_query(dialect, figure, grain, now=True)
        since = coverage[grain]
        if recorded is not None and since is not None and since <= at - spans[recorded.span]:
            query = recorded
        specs.append(Spec(figure, query, sel, spans, at, 1, 0, True))
    for step, start in ranges:
        first = start.timestamp() + step
        points = int((at - first) // step) + 1
        if points < 1:
            continue
        grain = _grain(step)
        range_spans = {**spans, "window": step}
        for figure, raw in queries.over_time():
            recorded = recorded_query(dialect, figure, grain, now=False)
            since = coverage[grain]
            # Points whose window starts after the rules began come from recorded series.
            if recorded is None or since is None:
                cut = points
            elif since == -math.inf:
                cut = 0
            else:
                cut = min(points, max(0, math.ceil((since + step - first) / step)))
            key = history_key(figure, step)
            if cut:
                specs.append(Spec(key, raw, sel, range_spans, first, cut, step, False))
            if recorded is not None and cut < points:
                specs.append(Spec(key, recorded, sel, range_spans, first + cut * step,
                                  points - cut, step, False))
    return specs


def _spreads(client: PrometheusClient, sel: str, pairs: list[tuple[str, str]],
             window: CollectWindow, sent: list[str]) -> dict[tuple[str, str], dict[str, int]]:
    """How each metric's series spread over a label's values (one request)."""
    lookback = f"{window.lookback_seconds}s"
    texts = [f"count by ({label}) (last_over_time({metric}{{{sel}}}[{lookback}]))"
             for metric, label in pairs]
    text = fold(texts) if len(texts) > 1 else texts[0]
    sent.append(text)
    spreads: dict[tuple[str, str], dict[str, int]] = {pair: {} for pair in pairs}
    for item in client.instant(text, window.at):
        index = int(item["metric"].get(PART_LABEL, 0))
        metric, label = pairs[index]
        value = item["metric"].get(label)
        if value is not None:
            spreads[(metric, label)][value] = int(float(item["value"][1]))
    return spreads


def _without_totals(results: dict[str, list[dict[str, Any]]], specs: list[Spec],
                    label: str) -> dict[str, list[dict[str, Any]]]:
    """Answers without the group of series that lack the topic label (a broker-wide total
    summed on its own), where the query says its metric has one."""
    totals = {spec.name for spec in specs if spec.query.unlabelled_total}
    return {name: [item for item in items if label in item["metric"]] if name in totals
            else items for name, items in results.items()}


def _warn_once(client: PrometheusClient, sel: str, requests: int, refused: int) -> None:
    key = (client.settings.url, sel)
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    log.warning("cluster %s: history read from raw exporter series in %d queries (%d refused "
                "by the server as too large and asked again in parts); %s makes this O(topics) "
                "and much cheaper for Prometheus (docs/collection.md)", client.cluster,
                requests, refused, RULES_PATH)


def _history_ranges(window: CollectWindow) -> list[tuple[int, datetime]]:
    """(step seconds, first window start) for daily and hourly history, aligned to the step,
    not reaching back past `since` (incremental collects) beyond one step of overlap.

    `since` is the newest hourly point stored. The collect that stored it also stored every
    daily point up to its own midnight, so a day is fetched again only until an hourly point
    of the next day's second hour is stored: one overlap, not a day's raw samples re-read
    every 15 minutes."""
    ranges = []
    for step, days in ((86_400, window.history_days), (3_600, window.hourly_days)):
        end = _floor(window.at, step)
        start = end - timedelta(days=days)
        if window.since is not None:
            stored = window.since - timedelta(hours=1) if step > 3_600 else window.since
            overlap = timedelta(0) if step > 3_600 else timedelta(seconds=step)
            start = max(start, _floor(stored, step) - overlap)
        if start < end:
            ranges.append((step, start))
    return ranges


def _floor(moment: datetime, step_seconds: int) -> datetime:
    seconds = int(moment.timestamp()) // step_seconds * step_seconds
    return datetime.fromtimestamp(seconds, tz=moment.tzinfo)


def _labelled(results: dict[str, Any], name: str, label: str) -> pd.Series:
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


def _topic_frame(results: dict[str, Any], queries: DialectQueries) -> pd.DataFrame:
    label = queries.topic_label
    columns = {metric.column: _labelled(results, metric.figure, label)
               for metric in SERIES_METRICS}
    columns["retained_messages"] = _labelled(results, Figure.RETAINED_MESSAGES, label)
    if label == "topic_name":
        columns["partitions"] = _from_label(results, Figure.PARTITIONS, label,
                                            "partition_count")
        columns["replication_factor"] = _from_label(results, Figure.PARTITIONS, label,
                                                    "replication_factor")
    elif Figure.PARTITION_REPLICAS in results:
        columns["partitions"], columns["replication_factor"] = _partition_replicas(
            results[Figure.PARTITION_REPLICAS], label)
    else:
        columns["partitions"] = _labelled(results, Figure.PARTITIONS, label)
        columns["replication_factor"] = _labelled(results, Figure.REPLICATION_FACTOR, label)
    frame = pd.DataFrame(columns)
    for column in TOPIC_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    if queries.fixed_replication_factor is not None:
        frame["replication_factor"] = float(queries.fixed_replication_factor)
    if queries.log_size_all_replicas:
        frame["log_size_bytes"] = frame["log_size_bytes"] / frame["replication_factor"]
    frame.index.name = "topic"
    return frame[list(TOPIC_COLUMNS)].sort_index()


def _partition_replicas(items: list[dict[str, Any]], label: str) -> tuple[pd.Series, pd.Series]:
    """Partition counts and RF per topic from how many partitions have each replica count."""
    rows = [(item["metric"][label], float(item["metric"][REPLICAS_LABEL]),
             float(item["value"][1])) for item in items if label in item["metric"]]
    frame = pd.DataFrame(rows, columns=["topic", "replicas", "partitions"]).astype(
        {"replicas": float, "partitions": float})
    by_topic = frame.groupby("topic")
    return by_topic["partitions"].sum(), by_topic["replicas"].max()


def _group_frame(results: dict[str, Any], queries: DialectQueries) -> pd.DataFrame:
    columns = ["group", "topic", "lag_messages", "max_lag_messages", "members"]
    if queries.group_label is None or Figure.GROUP_LAG not in results:
        return pd.DataFrame(columns=columns)
    g, t = queries.group_label, queries.topic_label

    def pairs(figure: Figure) -> pd.Series:
        values = {(item["metric"].get(g), item["metric"].get(t)): float(item["value"][1])
                  for item in results.get(figure, [])}
        return pd.Series(values, dtype=float)

    lag = pairs(Figure.GROUP_LAG)
    max_lag = pairs(Figure.GROUP_MAX_LAG)
    members = _labelled(results, Figure.GROUP_MEMBERS, g)
    frame = pd.DataFrame({"lag_messages": lag, "max_lag_messages": max_lag})
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["group", "topic"])
    frame = frame.reset_index()
    frame["members"] = frame["group"].map(members).fillna(0)
    return frame[columns]


def _principal_frame(results: dict[str, Any], queries: DialectQueries) -> pd.DataFrame:
    """Bytes per second each principal produced and fetched; a principal seen in one
    direction only has 0 in the other."""
    label = queries.principal_label
    if label is None:
        return pd.DataFrame(columns=list(PRINCIPAL_COLUMNS))
    frame = pd.DataFrame({
        "bytes_in_per_second": _labelled(results, Figure.PRINCIPAL_BYTES_IN, label),
        "bytes_out_per_second": _labelled(results, Figure.PRINCIPAL_BYTES_OUT, label),
    }).fillna(0.0)
    frame.index.name = "principal_id"
    return frame.reset_index()[list(PRINCIPAL_COLUMNS)].sort_values("principal_id",
                                                                     ignore_index=True)


def _broker_frame(results: dict[str, Any]) -> pd.DataFrame:
    cpu = _labelled(results, Figure.BROKER_CPU, "instance")
    disk = _labelled(results, Figure.BROKER_DISK, "instance")
    frame = pd.DataFrame({"cpu_utilisation": cpu, "disk_used_bytes": disk})
    frame.index.name = "instance"
    return frame.reset_index()


def _series_frame(results: dict[str, Any], queries: DialectQueries, window: CollectWindow,
                  topics: pd.DataFrame) -> pd.DataFrame:
    label = queries.topic_label
    frames = []
    for resolution, _ in _history_ranges(window):
        parts = {}
        for metric in SERIES_METRICS:
            key = history_key(metric.figure, resolution)
            if key in results:
                part = matrix_to_frame(results[key], label, key)
                parts[metric.column] = part.set_index([label, "ts_seconds"])["value"]
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
    series = series[series[list(RATE_COLUMNS)].notna().any(axis=1)].reset_index(drop=True)
    if queries.log_size_all_replicas:
        series["log_size_bytes"] = series["log_size_bytes"] / series["topic"].map(
            topics["replication_factor"])
    return series
