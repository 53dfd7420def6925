"""Every PromQL query costopt sends, as a catalog per exporter dialect. No query strings
anywhere else.

Placeholders: `{sel}` the cluster selector (label matchers, already escaped), `{window}` and
`{window_seconds}` the averaging window, `{lookback}` how far back a gauge's last sample may
be (backfilled or slowly scraped data is sparse), `{history}` the window for maxima.
All queries aggregate on the server (`sum by (topic)`): never one query per topic, never raw
partition series for a whole fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dialect = Literal["jmx", "strimzi", "kafka_exporter", "kminion"]

# Metric names whose presence identifies a dialect, most specific first.
DETECTION = (
    ("kminion", "kminion_kafka_topic_info"),
    ("kafka_exporter", "kafka_topic_partition_current_offset"),
    ("strimzi", "kafka_server_raftmetrics_commit_latency_avg"),
    ("jmx", "kafka_server_brokertopicmetrics_bytesin_total"),
)


@dataclass(frozen=True)
class DialectQueries:
    """Queries for one dialect. Per-topic results carry the label `topic_label`; a query is
    None where the dialect does not export the figure (the Kafka source fills it)."""

    topic_label: str
    group_label: str | None
    bytes_in_rate: str | None
    bytes_out_rate: str | None
    messages_in_rate: str
    log_size_bytes: str | None  # one replica
    partitions: str | None
    replication_factor: str | None
    group_lag_messages: str | None
    group_max_lag_messages: str | None
    group_members: str | None
    broker_cpu: str | None
    broker_disk_used_bytes: str | None
    retained_messages: str | None = None  # for bytes per message where bytes are not exported
    log_size_all_replicas: bool = False  # the size figures count every replica: divide by RF
    # Range queries (history), one point per `{window}`.
    bytes_in_range: str | None = None
    bytes_out_range: str | None = None
    messages_in_range: str | None = None
    log_size_range: str | None = None


def _jmx(prefix: str) -> DialectQueries:
    def rate(name: str) -> str:
        metric = f"{prefix}_{name}_total"
        return ("sum by (topic) (increase(" + metric + '{{topic!="",{sel}}}[{window}])) '
                "/ {window_seconds}")

    def size(function: str, window: str) -> str:
        return ("sum by (topic) (max by (topic, partition) (" + function
                + "(kafka_log_log_size{{{sel}}}[{" + window + "}])))")

    return DialectQueries(
        topic_label="topic", group_label=None,
        bytes_in_rate=rate("bytesin"),
        bytes_out_rate=rate("bytesout"),
        messages_in_rate=rate("messagesin"),
        log_size_bytes=size("last_over_time", "lookback"),
        partitions=('count by (topic) (max by (topic, partition) '
                    '(last_over_time(kafka_log_log_size{{{sel}}}[{lookback}])))'),
        replication_factor=('max by (topic) (count by (topic, partition) '
                            '(last_over_time(kafka_log_log_size{{{sel}}}[{lookback}])))'),
        group_lag_messages=None, group_max_lag_messages=None, group_members=None,
        broker_cpu=('avg by (instance) (last_over_time('
                    'java_lang_operatingsystem_processcpuload{{{sel}}}[{lookback}]))'),
        broker_disk_used_bytes=('sum by (instance) (last_over_time('
                                'kafka_log_log_size{{{sel}}}[{lookback}]))'),
        bytes_in_range=rate("bytesin"),
        bytes_out_range=rate("bytesout"),
        messages_in_range=rate("messagesin"),
        log_size_range=size("max_over_time", "window"),
    )


CATALOG: dict[str, DialectQueries] = {
    "jmx": _jmx("kafka_server_brokertopicmetrics"),
    # Strimzi's rules name these metrics the same way; they differ elsewhere (percent metrics,
    # no RequestMetrics), which costopt does not query.
    "strimzi": _jmx("kafka_server_brokertopicmetrics"),
    "kafka_exporter": DialectQueries(
        topic_label="topic", group_label="consumergroup",
        bytes_in_rate=None, bytes_out_rate=None,
        messages_in_rate=('sum by (topic) (increase(kafka_topic_partition_current_offset'
                          '{{{sel}}}[{window}])) / {window_seconds}'),
        log_size_bytes=None,
        partitions='max by (topic) (last_over_time(kafka_topic_partitions{{{sel}}}[{lookback}]))',
        replication_factor=('max by (topic) (last_over_time('
                            'kafka_topic_partition_replicas{{{sel}}}[{lookback}]))'),
        group_lag_messages=('sum by (consumergroup, topic) (last_over_time('
                            'kafka_consumergroup_lag_sum{{{sel}}}[{lookback}]))'),
        group_max_lag_messages=('sum by (consumergroup, topic) (max_over_time('
                                'kafka_consumergroup_lag_sum{{{sel}}}[{history}]))'),
        group_members=('max by (consumergroup) (last_over_time('
                       'kafka_consumergroup_members{{{sel}}}[{lookback}]))'),
        broker_cpu=None, broker_disk_used_bytes=None,
        messages_in_range=('sum by (topic) (increase(kafka_topic_partition_current_offset'
                           '{{{sel}}}[{window}])) / {window_seconds}'),
    ),
    "kminion": DialectQueries(
        topic_label="topic_name", group_label="group_id",
        bytes_in_rate=None, bytes_out_rate=None,
        messages_in_rate=('sum by (topic_name) (increase('
                          'kminion_kafka_topic_high_water_mark_sum{{{sel}}}[{window}])) '
                          '/ {window_seconds}'),
        # kminion reports the size of every replica's log dir (see log_size_all_replicas).
        log_size_bytes=('sum by (topic_name) (last_over_time('
                        'kminion_kafka_topic_log_dir_size_total_bytes{{{sel}}}[{lookback}]))'),
        partitions=('max by (topic_name, partition_count) (last_over_time('
                    'kminion_kafka_topic_info{{{sel}}}[{lookback}]))'),
        replication_factor=('max by (topic_name, replication_factor) (last_over_time('
                            'kminion_kafka_topic_info{{{sel}}}[{lookback}]))'),
        group_lag_messages=('sum by (group_id, topic_name) (last_over_time('
                            'kminion_kafka_consumer_group_topic_lag{{{sel}}}[{lookback}]))'),
        group_max_lag_messages=('sum by (group_id, topic_name) (max_over_time('
                                'kminion_kafka_consumer_group_topic_lag{{{sel}}}[{history}]))'),
        group_members=('max by (group_id) (last_over_time('
                       'kminion_kafka_consumer_group_members{{{sel}}}[{lookback}]))'),
        broker_cpu=None, broker_disk_used_bytes=None,
        retained_messages=('sum by (topic_name) (last_over_time('
                           'kminion_kafka_topic_high_water_mark_sum{{{sel}}}[{lookback}])) - '
                           'sum by (topic_name) (last_over_time('
                           'kminion_kafka_topic_low_water_mark_sum{{{sel}}}[{lookback}]))'),
        messages_in_range=('sum by (topic_name) (increase('
                           'kminion_kafka_topic_high_water_mark_sum{{{sel}}}[{window}])) '
                           '/ {window_seconds}'),
        log_size_range=('sum by (topic_name) (max_over_time('
                        'kminion_kafka_topic_log_dir_size_total_bytes{{{sel}}}[{window}]))'),
        log_size_all_replicas=True,
    ),
}

ALL_METRIC_NAMES = tuple(name for _, name in DETECTION)


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
    if not label.replace("_", "a").isalnum() or label[0].isdigit():
        raise ValueError(f"not a valid Prometheus label name: {label!r}")
    return f"{label}={promql_string(value)}"


def render(template: str, *, sel: str, window_seconds: int = 3600,
           lookback_seconds: int = 600, history_seconds: int = 30 * 86_400) -> str:
    return template.format(sel=sel, window=f"{window_seconds}s", window_seconds=window_seconds,
                           lookback=f"{lookback_seconds}s", history=f"{history_seconds}s")
