"""Every PromQL query costopt sends, as a catalog per exporter dialect. No query strings
anywhere else.

Placeholders: `{sel}` the cluster selector (label matchers, already escaped), `{window}` and
`{window_seconds}` the averaging window, `{lookback}` how far back a gauge's last sample may
be (backfilled or slowly scraped data is sparse), `{history}` the window for maxima,
`{rec_lookback}` the same for recorded series (at least two of their evaluations).
All queries aggregate on the server (`sum by (topic)`): never one query per topic, never raw
partition series for a whole fleet.

Each query says what its cost depends on (`Query`): the metric whose series it reads, which
range it reads them over, and a label whose values split its series into parts whose results
combine (by `sum` or `max`) into the whole answer. The planner (`query_plan.py`) uses that to keep
every request within the server's limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from costopt.snapshot.metrics import REPLICAS_LABEL, SERIES_METRICS, Figure
from costopt.sources.prometheus.recording_rules import (
    CURRENT_FIGURES,
    CURRENT_GRAIN,
    FIGURES,
    GRAINS,
    RecordedFigure,
)

Dialect = Literal["jmx", "strimzi", "kafka_exporter", "kminion", "confluent_cloud"]
Span = Literal["window", "lookback", "history", "rec_lookback"]

# Metric names whose presence identifies a dialect, most specific first.
DETECTION = (
    ("confluent_cloud", "confluent_kafka_server_retained_bytes"),
    ("kminion", "kminion_kafka_topic_info"),
    ("kafka_exporter", "kafka_topic_partition_current_offset"),
    ("strimzi", "kafka_server_raftmetrics_commit_latency_avg"),
    ("jmx", "kafka_server_brokertopicmetrics_bytesin_total"),
)


@dataclass(frozen=True)
class Query:
    """A PromQL template and what its cost depends on."""

    template: str
    reads: str  # the metric whose series it reads
    span: Span = "window"  # the placeholder giving the range it reads them over
    shard_label: str | None = None  # its series split by this label give disjoint parts...
    combine: Literal["sum", "max"] = "sum"  # ...whose results combine this way
    grain_seconds: int | None = None  # recorded series: seconds between their samples
    # Its metric also has an unlabelled broker-wide total, which aggregates into a group
    # without the topic label: dropped from the answer. (Selecting `topic!=""` instead
    # would make Prometheus merge the postings of every topic, doubling the query's cost.)
    unlabelled_total: bool = False


@dataclass(frozen=True)
class DialectQueries:
    """Queries for one dialect, by figure: `now` for the snapshot's figures; the history of
    the stored series (`SERIES_METRICS`), one point per `{window}`, by the same query unless
    `history` gives another. A figure is missing where the dialect does not export it (the
    Kafka source fills it). Per-topic results carry the label `topic_label`, per-group ones
    `group_label`, per-principal ones `principal_label`."""

    topic_label: str
    group_label: str | None
    now: dict[Figure, Query]
    history: dict[Figure, Query] = field(default_factory=dict)
    log_size_all_replicas: bool = False  # the size figures count every replica: divide by RF
    # Bytes each authenticated principal produced and fetched are per `principal_label`
    # (Confluent Cloud only: broker exporters never say who sent a byte).
    principal_label: str | None = None
    # Where the source exports no replication factor but the service fixes it for every topic.
    fixed_replication_factor: int | None = None
    # Figures costopt needs that the source cannot give, with why: the snapshot says so.
    not_measured: tuple[tuple[str, str], ...] = ()

    def current(self) -> list[tuple[Figure, Query]]:
        """The figures of a snapshot, in the enum's order (the order requests fold in)."""
        return [(figure, self.now[figure]) for figure in Figure if figure in self.now]

    def over_time(self) -> list[tuple[Figure, Query]]:
        return [(metric.figure, self.history.get(metric.figure) or self.now[metric.figure])
                for metric in SERIES_METRICS
                if metric.figure in self.history or metric.figure in self.now]


def history_key(figure: Figure, step_seconds: int) -> str:
    """The name of a history answer: the figure and its step."""
    return f"{figure}@{step_seconds}"


def _jmx(prefix: str) -> DialectQueries:
    def rate(name: str) -> Query:
        metric = f"{prefix}_{name}_total"
        # Per topic × broker: the brokers split the series.
        return Query("sum by (topic) (increase(" + metric + "{{{sel}}}[{window}])) "
                     "/ {window_seconds}", metric, shard_label="instance", unlabelled_total=True)

    def size(function: str, span: Span) -> Query:
        # Per partition × replica: partitions split the series, keeping a partition's
        # replicas together for the max.
        return Query("sum by (topic) (max by (topic, partition) (" + function
                     + "(kafka_log_log_size{{{sel}}}[{" + span + "}])))", "kafka_log_log_size",
                     span=span, shard_label="partition")

    size_now = size("last_over_time", "lookback")
    return DialectQueries(
        topic_label="topic", group_label=None,
        now={
            Figure.BYTES_IN: rate("bytesin"),
            Figure.BYTES_OUT: rate("bytesout"),
            Figure.MESSAGES_IN: rate("messagesin"),
            Figure.LOG_SIZE: size_now,
            # Each partition's replicas (its series, one per broker holding a copy), and per
            # topic how many partitions have each count: their sum is the partition count,
            # the largest count the RF.
            Figure.PARTITION_REPLICAS: Query(
                'count_values by (topic) ("' + REPLICAS_LABEL + '", count by (topic, '
                'partition) (last_over_time(kafka_log_log_size{{{sel}}}[{lookback}])))',
                "kafka_log_log_size", span="lookback", shard_label="partition"),
            Figure.BROKER_CPU: Query(
                'avg by (instance) (last_over_time('
                'java_lang_operatingsystem_processcpuload{{{sel}}}[{lookback}]))',
                "java_lang_operatingsystem_processcpuload", span="lookback"),
            Figure.BROKER_DISK: Query(
                'sum by (instance) (last_over_time(kafka_log_log_size{{{sel}}}[{lookback}]))',
                "kafka_log_log_size", span="lookback", shard_label="partition"),
        },
        history={Figure.LOG_SIZE: size("max_over_time", "window")},
    )


_OFFSETS = Query('sum by (topic) (increase(kafka_topic_partition_current_offset'
                 '{{{sel}}}[{window}])) / {window_seconds}',
                 "kafka_topic_partition_current_offset", shard_label="partition")
_HIGH_WATER = Query('sum by (topic_name) (increase(kminion_kafka_topic_high_water_mark_sum'
                    '{{{sel}}}[{window}])) / {window_seconds}',
                    "kminion_kafka_topic_high_water_mark_sum")

CATALOG: dict[str, DialectQueries] = {
    "jmx": _jmx("kafka_server_brokertopicmetrics"),
    # Strimzi's rules name these metrics the same way; they differ elsewhere (percent metrics,
    # no RequestMetrics), which costopt does not query.
    "strimzi": _jmx("kafka_server_brokertopicmetrics"),
    "kafka_exporter": DialectQueries(
        topic_label="topic", group_label="consumergroup",
        now={
            Figure.MESSAGES_IN: _OFFSETS,
            Figure.PARTITIONS: Query('max by (topic) (last_over_time(kafka_topic_partitions'
                                     '{{{sel}}}[{lookback}]))', "kafka_topic_partitions",
                                     span="lookback"),
            Figure.REPLICATION_FACTOR: Query(
                'max by (topic) (last_over_time(kafka_topic_partition_replicas{{{sel}}}'
                '[{lookback}]))', "kafka_topic_partition_replicas", span="lookback",
                shard_label="partition", combine="max"),
            Figure.GROUP_LAG: Query('sum by (consumergroup, topic) (last_over_time('
                                    'kafka_consumergroup_lag_sum{{{sel}}}[{lookback}]))',
                                    "kafka_consumergroup_lag_sum", span="lookback",
                                    shard_label="consumergroup"),
            Figure.GROUP_MAX_LAG: Query('sum by (consumergroup, topic) (max_over_time('
                                        'kafka_consumergroup_lag_sum{{{sel}}}[{history}]))',
                                        "kafka_consumergroup_lag_sum", span="history",
                                        shard_label="consumergroup"),
            Figure.GROUP_MEMBERS: Query('max by (consumergroup) (last_over_time('
                                        'kafka_consumergroup_members{{{sel}}}[{lookback}]))',
                                        "kafka_consumergroup_members", span="lookback"),
        },
    ),
    "kminion": DialectQueries(
        topic_label="topic_name", group_label="group_id",
        now={
            Figure.MESSAGES_IN: _HIGH_WATER,
            # kminion reports the size of every replica's log dir (see log_size_all_replicas).
            Figure.LOG_SIZE: Query('sum by (topic_name) (last_over_time('
                                   'kminion_kafka_topic_log_dir_size_total_bytes{{{sel}}}'
                                   '[{lookback}]))',
                                   "kminion_kafka_topic_log_dir_size_total_bytes",
                                   span="lookback"),
            # Partition count and RF are labels of one info series per topic: one query.
            Figure.PARTITIONS: Query('max by (topic_name, partition_count, replication_factor)'
                                     ' (last_over_time(kminion_kafka_topic_info{{{sel}}}'
                                     '[{lookback}]))', "kminion_kafka_topic_info",
                                     span="lookback"),
            Figure.RETAINED_MESSAGES: Query(
                'sum by (topic_name) (last_over_time('
                'kminion_kafka_topic_high_water_mark_sum{{{sel}}}[{lookback}])) '
                '- sum by (topic_name) (last_over_time('
                'kminion_kafka_topic_low_water_mark_sum{{{sel}}}[{lookback}]))',
                "kminion_kafka_topic_high_water_mark_sum", span="lookback"),
            Figure.GROUP_LAG: Query('sum by (group_id, topic_name) (last_over_time('
                                    'kminion_kafka_consumer_group_topic_lag{{{sel}}}'
                                    '[{lookback}]))', "kminion_kafka_consumer_group_topic_lag",
                                    span="lookback", shard_label="group_id"),
            Figure.GROUP_MAX_LAG: Query('sum by (group_id, topic_name) (max_over_time('
                                        'kminion_kafka_consumer_group_topic_lag{{{sel}}}'
                                        '[{history}]))',
                                        "kminion_kafka_consumer_group_topic_lag",
                                        span="history", shard_label="group_id"),
            Figure.GROUP_MEMBERS: Query('max by (group_id) (last_over_time('
                                        'kminion_kafka_consumer_group_members{{{sel}}}'
                                        '[{lookback}]))', "kminion_kafka_consumer_group_members",
                                        span="lookback"),
        },
        history={
            Figure.LOG_SIZE: Query('sum by (topic_name) (max_over_time('
                                   'kminion_kafka_topic_log_dir_size_total_bytes{{{sel}}}'
                                   '[{window}]))', "kminion_kafka_topic_log_dir_size_total_bytes"),
        },
        log_size_all_replicas=True,
    ),
}

# Confluent Cloud ----------------------------------------------------------------------------
# The Metrics API's export endpoint (`/v2/metrics/cloud/export`) as a team's Prometheus stores
# it when it scrapes the endpoint (docs/collection.md). Per the API reference
# (api.telemetry.confluent.cloud/docs, export endpoint): names are the API's with `/` and `.`
# made `_` (`io.confluent.kafka.server/received_bytes` -> `confluent_kafka_server_received_bytes`),
# label prefixes dropped (`resource.kafka.id` -> `kafka_id`, `metric.topic` -> `topic`), and
# every value is exported as a gauge: a COUNTER is the count *within one one-minute interval*
# (a delta, not an ever-growing counter), a GAUGE (retained_bytes) the value then. The endpoint
# serves the last complete minute, a few minutes late, under that minute's own timestamp
# (kept by `honor_timestamps`).
#
# So a rate is the mean of the per-minute deltas divided by 60, `avg_over_time(x[w]) / 60`,
# never `rate()` or `increase()` (which would read every drop from one minute to the next as a
# counter reset). The mean, not `sum_over_time(x[w]) / w`: the sum counts scrapes, so it is
# right only at exactly one scrape a minute; a slower scrape interval, a missed scrape or a
# sample scraped twice would bias it, while the mean of the minutes that were scraped does not
# depend on how many there were.
CONFLUENT_PREFIX = "confluent_kafka_server_"
# Each metric costopt reads and the labels the export gives it (held to the API reference by
# tests/collect/test_confluent_reference.py).
CONFLUENT_LABELS: dict[str, tuple[str, ...]] = {
    "received_bytes": ("kafka_id", "topic"),
    "sent_bytes": ("kafka_id", "topic"),
    "received_records": ("kafka_id", "topic"),
    "sent_records": ("kafka_id", "topic"),
    "retained_bytes": ("kafka_id", "topic", "partition"),
    "partition_count": ("kafka_id",),
    "consumer_lag_offsets": ("kafka_id", "consumer_group_id", "topic", "partition"),
    "request_bytes": ("kafka_id", "principal_id", "type"),
    "response_bytes": ("kafka_id", "principal_id", "type"),
}
CONFLUENT_MINUTE_SECONDS = 60  # the interval one delta covers
# A sample stamped t is the minute [t, t + 60): the minutes within a window [end - w, end) are
# the samples stamped in [end - w, end - 1 s]. Shifting the range by a second reads exactly
# those on every backend: Prometheus 2.x ranges hold both edges, Prometheus 3.x and
# VictoriaMetrics only the right one, and unshifted each would count one edge minute
# differently (at a coarse scrape, a large share of the window).
_MINUTES_WITHIN = " offset 1s"
# Confluent Cloud fixes every topic's replication factor at 3; the export has no RF metric.
# retained_bytes counts every replica ("after replication thus needs to be divided by 3",
# Confluent's own dashboard for the export, confluentinc/jmx-monitoring-stacks
# ccloud-prometheus-grafana/.../ccloud.json, 2025-03-25), so one replica's size is a third.
CONFLUENT_REPLICATION_FACTOR = 3


def confluent_metric(name: str) -> str:
    return CONFLUENT_PREFIX + name


def _confluent_cloud() -> DialectQueries:
    def per_second(name: str) -> Query:
        # One series per topic (the export has no per-partition or per-broker split of bytes
        # and records): topics split the series.
        metric = confluent_metric(name)
        return Query("sum by (topic) (avg_over_time(" + metric + "{{{sel}}}[{window}]"
                     + _MINUTES_WITHIN + ")) / " + str(CONFLUENT_MINUTE_SECONDS), metric,
                     shard_label="topic")

    def principal(name: str, request_type: str) -> Query:
        # Bytes per principal for the whole cluster (the export has no topic on these): the
        # requests of one Kafka API, Produce for bytes written and Fetch for bytes read.
        metric = confluent_metric(name)
        return Query("sum by (principal_id) (avg_over_time(" + metric + "{{{sel},type=\""
                     + request_type + "\"}}[{window}]" + _MINUTES_WITHIN + ")) / "
                     + str(CONFLUENT_MINUTE_SECONDS), metric, shard_label="principal_id")

    retained = confluent_metric("retained_bytes")
    lag = confluent_metric("consumer_lag_offsets")

    def size(function: str, span: Span) -> Query:
        # Per partition: partitions split the series.
        return Query("sum by (topic) (" + function + "(" + retained + "{{{sel}}}[{" + span
                     + "}]))", retained, span=span, shard_label="partition")

    why = ("Confluent Cloud runs the brokers; its Metrics API exports no broker CPU, disk or "
           "broker count (the cost model prices the cluster by its billing dimensions)")
    return DialectQueries(
        topic_label="topic", group_label="consumer_group_id",
        now={
            Figure.BYTES_IN: per_second("received_bytes"),
            Figure.BYTES_OUT: per_second("sent_bytes"),
            Figure.MESSAGES_IN: per_second("received_records"),
            # retained_bytes counts every replica's copy (see log_size_all_replicas).
            Figure.LOG_SIZE: size("last_over_time", "lookback"),
            Figure.PARTITIONS: Query("count by (topic) (last_over_time(" + retained
                                     + "{{{sel}}}[{lookback}]))", retained, span="lookback",
                                     shard_label="partition"),
            Figure.GROUP_LAG: Query("sum by (consumer_group_id, topic) (last_over_time("
                                    + lag + "{{{sel}}}[{lookback}]))", lag, span="lookback",
                                    shard_label="consumer_group_id"),
            # Each partition's peak, summed: at most the group's peak lag on the topic (the
            # partitions need not peak together), read without a subquery over the history.
            Figure.GROUP_MAX_LAG: Query("sum by (consumer_group_id, topic) (max_over_time("
                                        + lag + "{{{sel}}}[{history}]))", lag, span="history",
                                        shard_label="consumer_group_id"),
            Figure.PRINCIPAL_BYTES_IN: principal("request_bytes", "Produce"),
            Figure.PRINCIPAL_BYTES_OUT: principal("response_bytes", "Fetch"),
        },
        history={Figure.LOG_SIZE: size("max_over_time", "window")},
        log_size_all_replicas=True,
        principal_label="principal_id",
        fixed_replication_factor=CONFLUENT_REPLICATION_FACTOR,
        not_measured=(
            ("broker_cpu", why), ("broker_disk", why), ("broker_count", why),
            ("replication_factor", "the Metrics API exports none; Confluent Cloud fixes it "
                                   f"at {CONFLUENT_REPLICATION_FACTOR} for every topic"),
            ("group_members", "the Metrics API exports consumer lag, not group members")),
    )


CATALOG["confluent_cloud"] = _confluent_cloud()

ALL_METRIC_NAMES = tuple(name for _, name in DETECTION)


def recorded_query(dialect: str, figure: Figure, grain: str, *, now: bool) -> Query | None:
    """The query of `figure` (`now`, or its history) read from the recorded series of
    `grain`, or None where the rules do not record it."""
    recorded = _recorded_figure(dialect, figure)
    if recorded is None:
        return None
    metric = recorded.record(grain)
    if recorded.operation == "rate":
        template = "sum by (topic) (avg_over_time(" + metric + "{{{sel}}}[{window}]))"
        span: Span = "window"
    elif now:  # the size now: the last recorded maximum
        template = "sum by (topic) (last_over_time(" + metric + "{{{sel}}}[{rec_lookback}]))"
        span = "rec_lookback"
    else:
        template = "sum by (topic) (max_over_time(" + metric + "{{{sel}}}[{window}]))"
        span = "window"
    return Query(template, metric, span=span, grain_seconds=GRAINS[grain])


def current_recorded(dialect: str, figure: Figure) -> dict[Figure, Query]:
    """The figures recorded now in place of the query of `figure` (the 5-minute grain), by
    the figure each answers as; empty where the rules do not record them."""
    found = {}
    for recorded in CURRENT_FIGURES.get(dialect, ()):
        if (recorded.replaces or recorded.figure) == figure:
            metric = recorded.record(CURRENT_GRAIN)
            found[recorded.figure] = Query(
                "sum by (" + recorded.per + ") (last_over_time(" + metric
                + "{{{sel}}}[{rec_lookback}]))", metric, span="rec_lookback",
                grain_seconds=GRAINS[CURRENT_GRAIN])
    return found


def current_recorded_metrics(dialect: str) -> tuple[str, ...]:
    return tuple(f.record(CURRENT_GRAIN) for f in CURRENT_FIGURES.get(dialect, ()))


def recorded_metrics(dialect: str) -> tuple[str, ...]:
    return tuple(f.record(grain) for f in FIGURES.get(dialect, ()) for grain in GRAINS)


def _recorded_figure(dialect: str, figure: Figure) -> RecordedFigure | None:
    return next((f for f in FIGURES.get(dialect, ()) if f.figure == figure), None)


def presence_metric(dialect: str) -> str:
    """The metric a dialect's exporter reports while it runs: its detection metric, except
    for strimzi, whose queries read the JMX byte counters its rules also export."""
    return dict(DETECTION)["jmx" if dialect == "strimzi" else dialect]


def presence_query(dialect: str) -> str:
    """How many series of the dialect's own metric the cluster reported within the lookback:
    none means its exporter stopped (or was never scraped), even where older history
    remains."""
    return "count(last_over_time(" + presence_metric(dialect) + "{{{sel}}}[{lookback}]))"


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal: backslash, quote and newline escaped, so a
    topic or cluster name cannot change the query around it."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def cluster_selector(label: str, value: str) -> str:
    _check_label(label)
    return f"{label}={promql_string(value)}"


def _check_label(label: str) -> None:
    if not label or not label.replace("_", "a").isalnum() or label[0].isdigit():
        raise ValueError(f"not a valid Prometheus label name: {label!r}")


_RE2_SPECIAL = set(r"\.+*?()|[]{}^$")


def shard_selector(label: str, values: list[str]) -> str:
    """Series whose `label` is one of `values`, exactly (an anchored RE2 alternation)."""
    _check_label(label)
    pattern = "|".join("".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in value)
                       for value in values)
    return f"{label}=~{promql_string(pattern)}"


def render(template: str | Query, *, sel: str, window_seconds: int = 3600,
           lookback_seconds: int = 600, history_seconds: int = 30 * 86_400,
           rec_lookback_seconds: int = 900) -> str:
    text = template.template if isinstance(template, Query) else template
    return text.format(sel=sel, window=f"{window_seconds}s", window_seconds=window_seconds,
                       lookback=f"{lookback_seconds}s", history=f"{history_seconds}s",
                       rec_lookback=f"{rec_lookback_seconds}s")


# Per broker (scrape target), for cross-zone reads: each topic's bytes at each broker, and the
# broker id each target reports (the JMX rule `kafka.server<type=app-info, id=...>StartTimeMs`
# → `kafka_server_app_info_start_time_ms{broker_id}`, see tests/stack/jmx-exporter-kafka.yaml).
# JMX dialects only: the other exporters do not count bytes per broker. Series per topic ×
# broker; the unlabelled broker-wide total comes back with an empty topic and is dropped.
BROKER_TOPIC_BYTES = {
    "bytes_in_per_second": Query(
        "sum by (instance, topic) (increase(kafka_server_brokertopicmetrics_bytesin_total"
        "{{{sel}}}[{window}])) / {window_seconds}",
        "kafka_server_brokertopicmetrics_bytesin_total", unlabelled_total=True),
    "bytes_out_per_second": Query(
        "sum by (instance, topic) (increase(kafka_server_brokertopicmetrics_bytesout_total"
        "{{{sel}}}[{window}])) / {window_seconds}",
        "kafka_server_brokertopicmetrics_bytesout_total", unlabelled_total=True),
}
BROKER_ID_OF_TARGET = Query(
    "max by (instance, broker_id) (last_over_time(kafka_server_app_info_start_time_ms"
    "{{{sel}}}[{lookback}]))", "kafka_server_app_info_start_time_ms", span="lookback")
BROKER_TOPIC_DIALECTS = ("jmx", "strimzi")
