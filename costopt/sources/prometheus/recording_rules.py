"""The recording rules costopt ships (`deploy/prometheus/costopt-rules.yml`), defined once here:
the file is rendered from these definitions, and the collector reads the series they record.

Why: an exporter writes log sizes per partition × replica and byte counters per topic × broker,
so a history query over raw series costs O(partitions × replicas × samples). Recorded per-topic
series at a 5-minute and a 1-hour grain make the same history O(topics × points). Names follow
Prometheus's `level:metric:operations` convention: level `cluster_topic` (the aggregation
keeps the cluster label and the topic; `cluster_instance` for a broker's figure), the
exporter's metric name (`_total` dropped), and the operation with its window (`rate5m`,
`max1h`). Each is keyed by the figure it measures (`snapshot/metrics.py` `Figure`).

Grains: the 5-minute series feed the current figures and the hourly history, the 1-hour series
the daily history. A group evaluates at its own offset within its interval, so a 1-hour point
covers the hour before its evaluation, not a clock hour: daily figures from it are offset by
less than an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from costopt.snapshot.metrics import Figure

RULES_PATH = "deploy/prometheus/costopt-rules.yml"
LEVEL = "cluster_topic"
GRAINS = {"5m": 300, "1h": 3600}


@dataclass(frozen=True)
class RecordedFigure:
    """One per-topic figure an exporter's raw series give, recorded at each grain."""

    figure: Figure
    metric: str  # the exporter's metric name, `_total` dropped
    operation: str  # rate (per second over the grain) or max (over the grain)
    expr: str  # PromQL with {by} (cluster label, `per`) and {grain}
    keep: tuple[str, ...] = ()  # labels kept besides the cluster label and `per`
    per: str = "topic"  # what the figure is per: topic, or instance (a broker)
    # A current figure: the figure whose query it stands in for, if not its own.
    replaces: Figure | None = None

    def record(self, grain: str) -> str:
        return f"cluster_{self.per}:{self.metric}:{self.operation}{grain}"


def _counter(figure: Figure, metric: str) -> RecordedFigure:
    # The broker-wide total is the same name without `topic`: left out, or it counts twice.
    return RecordedFigure(figure, metric, "rate",
                          "sum by ({by}) (rate(" + metric + '_total{{topic!=""}}[{grain}]))')


JMX_FIGURES = (
    _counter(Figure.BYTES_IN, "kafka_server_brokertopicmetrics_bytesin"),
    _counter(Figure.BYTES_OUT, "kafka_server_brokertopicmetrics_bytesout"),
    _counter(Figure.MESSAGES_IN, "kafka_server_brokertopicmetrics_messagesin"),
    # One replica's size: the largest copy of each partition, summed over the partitions.
    RecordedFigure(Figure.LOG_SIZE, "kafka_log_log_size", "max",
                   "sum by ({by}) (max by ({by}, partition) "
                   "(max_over_time(kafka_log_log_size[{grain}])))"),
)
# What a collect reads of the cluster now besides the per-topic history, which the raw series
# would give only from O(partitions x replicas) series: the 5-minute grain only. Read wherever
# the census finds them, whatever the history's coverage (a rules file from before they were
# added still serves the history).
CURRENT_GRAIN = "5m"
JMX_CURRENT = (
    # Each partition's replicas are its series, one per broker holding a copy.
    RecordedFigure(Figure.PARTITIONS, "kafka_log_log_size", "partitions",
                   "count by ({by}) (max by ({by}, partition) "
                   "(last_over_time(kafka_log_log_size[{grain}])))",
                   replaces=Figure.PARTITION_REPLICAS),
    RecordedFigure(Figure.REPLICATION_FACTOR, "kafka_log_log_size", "replicas_max",
                   "max by ({by}) (count by ({by}, partition) "
                   "(last_over_time(kafka_log_log_size[{grain}])))",
                   replaces=Figure.PARTITION_REPLICAS),
    # Every replica a broker holds.
    RecordedFigure(Figure.BROKER_DISK, "kafka_log_log_size", "sum",
                   "sum by ({by}) (last_over_time(kafka_log_log_size[{grain}]))",
                   per="instance"),
)
KAFKA_EXPORTER_CURRENT = (
    # Replicas per partition: the largest per topic.
    RecordedFigure(Figure.REPLICATION_FACTOR, "kafka_topic_partition_replicas", "max",
                   "max by ({by}) (last_over_time(kafka_topic_partition_replicas[{grain}]))"),
)
KAFKA_EXPORTER_FIGURES = (
    # Offsets per partition grow by the messages produced: their rate is messages in.
    RecordedFigure(Figure.MESSAGES_IN, "kafka_topic_partition_current_offset", "rate",
                   "sum by ({by}) (rate(kafka_topic_partition_current_offset[{grain}]))"),
)


def _per_minute(figure: Figure, metric: str) -> RecordedFigure:
    # Confluent Cloud's export: each sample is one minute's delta, so the rate over the grain
    # is their mean divided by 60 (queries.py says why not rate() or sum_over_time).
    return RecordedFigure(figure, metric, "rate",
                          "sum by ({by}) (avg_over_time(" + metric + "[{grain}])) / 60",
                          keep=("kafka_id",))


CONFLUENT_FIGURES = (
    _per_minute(Figure.BYTES_IN, "confluent_kafka_server_received_bytes"),
    _per_minute(Figure.BYTES_OUT, "confluent_kafka_server_sent_bytes"),
    _per_minute(Figure.MESSAGES_IN, "confluent_kafka_server_received_records"),
    # Every replica's copy, per partition: the largest over the grain, summed per topic.
    RecordedFigure(Figure.LOG_SIZE, "confluent_kafka_server_retained_bytes", "max",
                   "sum by ({by}) (max_over_time(confluent_kafka_server_retained_bytes"
                   "[{grain}]))", keep=("kafka_id",)),
)
CONFLUENT_CURRENT = (
    # One retained_bytes series per partition: their count.
    RecordedFigure(Figure.PARTITIONS, "confluent_kafka_server_retained_bytes", "partitions",
                   "count by ({by}) (last_over_time(confluent_kafka_server_retained_bytes"
                   "[{grain}]))", keep=("kafka_id",)),
)
# Dialects whose raw series are per partition, per broker or per minute; kminion is per topic
# already.
FIGURES: dict[str, tuple[RecordedFigure, ...]] = {
    "jmx": JMX_FIGURES, "strimzi": JMX_FIGURES, "kafka_exporter": KAFKA_EXPORTER_FIGURES,
    "confluent_cloud": CONFLUENT_FIGURES}
CURRENT_FIGURES: dict[str, tuple[RecordedFigure, ...]] = {
    "jmx": JMX_CURRENT, "strimzi": JMX_CURRENT, "kafka_exporter": KAFKA_EXPORTER_CURRENT,
    "confluent_cloud": CONFLUENT_CURRENT}
GROUPS = (("jmx", JMX_FIGURES, JMX_CURRENT),
          ("kafka-exporter", KAFKA_EXPORTER_FIGURES, KAFKA_EXPORTER_CURRENT),
          ("confluent-cloud", CONFLUENT_FIGURES, CONFLUENT_CURRENT))

# kminion names the topic `topic_name`: renamed, so its series join the others by `topic`.
_KMINION_TOPIC = 'label_replace({series}, "topic", "$1", "topic_name", "(.+)")'
# Series named the same whatever the exporter, for the Grafana topic dashboard: its panels
# then work for JMX, Strimzi, kafka_exporter, kminion and Confluent Cloud alike, for every topic
# (costopt's own /metrics carry per-topic series for the top topics by cost only). Each dialect
# records the figures its exporter has: kafka_exporter has no bytes and no log size, kminion
# no bytes; Confluent Cloud's export has all four.
# 5-minute grain only: dashboards show the recent past; costopt reads the groups above.
# One rule per figure, the dialects' expressions joined by `or` (one name, one rule, so no
# duplicate recording: a cluster is read in one dialect, and the first that has it wins).
DASHBOARD_LEVEL_NAMES = {
    Figure.MESSAGES_IN: "costopt_topic_messages_in:rate",
    Figure.BYTES_IN: "costopt_topic_bytes_in:rate",
    Figure.BYTES_OUT: "costopt_topic_bytes_out:rate",
    Figure.LOG_SIZE: "costopt_topic_log_size_all_replicas:max"}
DASHBOARD_FIGURES: dict[Figure, dict[str, str]] = {
    Figure.MESSAGES_IN: {
        "jmx": 'sum by ({by}) (rate(kafka_server_brokertopicmetrics_messagesin_total'
               '{{topic!=""}}[{grain}]))',
        "kafka_exporter": "sum by ({by}) (rate(kafka_topic_partition_current_offset[{grain}]))",
        "kminion": "sum by ({by}) (" + _KMINION_TOPIC.format(
            series="rate(kminion_kafka_topic_high_water_mark_sum[{grain}])") + ")",
        "confluent_cloud": CONFLUENT_FIGURES[2].expr},
    Figure.BYTES_IN: {
        "jmx": 'sum by ({by}) (rate(kafka_server_brokertopicmetrics_bytesin_total'
               '{{topic!=""}}[{grain}]))',
        "confluent_cloud": CONFLUENT_FIGURES[0].expr},
    Figure.BYTES_OUT: {
        "jmx": 'sum by ({by}) (rate(kafka_server_brokertopicmetrics_bytesout_total'
               '{{topic!=""}}[{grain}]))',
        "confluent_cloud": CONFLUENT_FIGURES[1].expr},
    Figure.LOG_SIZE: {
        "jmx": "sum by ({by}) (max_over_time(kafka_log_log_size[{grain}]))",
        "kminion": "sum by ({by}) (" + _KMINION_TOPIC.format(
            series="max_over_time(kminion_kafka_topic_log_dir_size_total_bytes[{grain}])")
                   + ")",
        # retained_bytes counts every replica's copy already.
        "confluent_cloud": CONFLUENT_FIGURES[3].expr},
}
DASHBOARD_GRAIN = "5m"


def dashboard_record(figure: Figure) -> str:
    """The recorded name of a dashboard figure, the same for every dialect."""
    return f"{LEVEL}:{DASHBOARD_LEVEL_NAMES[figure]}{DASHBOARD_GRAIN}"


def rules_document(cluster_label: str = "cluster") -> dict[str, Any]:
    """The rule groups, grouping by `cluster_label` and topic."""
    by = f"{cluster_label}, topic"

    def keeping(figure: RecordedFigure) -> str:
        return ", ".join(dict.fromkeys((cluster_label, *figure.keep, figure.per)))

    groups = [{"name": f"costopt-{name}-{grain}", "interval": grain,
               "rules": [{"record": f.record(grain),
                          "expr": f.expr.format(by=keeping(f), grain=grain)}
                         for f in (*figures, *(current if grain == CURRENT_GRAIN else ()))]}
              for name, figures, current in GROUPS for grain in GRAINS]
    groups.append({
        "name": "costopt-dashboards", "interval": DASHBOARD_GRAIN,
        "rules": [{"record": dashboard_record(figure),
                   "expr": " or ".join(expr.format(by=by, grain=DASHBOARD_GRAIN)
                                       for expr in by_dialect.values())}
                  for figure, by_dialect in DASHBOARD_FIGURES.items()]})
    return {"groups": groups}


HEADER = """\
# costopt's recording rules: per-topic series at a 5-minute and a 1-hour grain, so that
# costopt's history queries cost O(topics) rather than O(partitions x replicas). Load them into
# the Prometheus that scrapes your Kafka exporters (rule_files), then backfill the history they
# did not see with `promtool tsdb create-blocks-from rules` (docs/collection.md).
# Rendered from costopt/sources/prometheus/recording_rules.py; groups by the `{label}` label.
"""


def rules_yaml(cluster_label: str = "cluster") -> str:
    body = yaml.safe_dump(rules_document(cluster_label), sort_keys=False, width=120)
    return HEADER.format(label=cluster_label) + body
