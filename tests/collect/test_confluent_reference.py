"""The `confluent_cloud` dialect's metric and label names held to Confluent's reference.

Source: the Confluent Cloud Metrics API reference, https://api.telemetry.confluent.cloud/docs
(its OpenAPI document, https://api.telemetry.confluent.cloud/docs/api.yaml, changelog up to
2026-06-18, as published on 2026-08-27), section "Export metric values"
(`GET /v2/metrics/{dataset}/export`), and its metrics reference,
https://api.telemetry.confluent.cloud/docs/descriptors/datasets/cloud (the `cloud` dataset's
descriptors, same date). Transcribed below by hand, never fetched by the test (no network).

What the export section says and this file checks:
- "Metric and label names are translated to adhere to Prometheus restrictions. The
  `resource.` and `metric.` prefixes from label names are also dropped": so
  `io.confluent.kafka.server/received_bytes` is `confluent_kafka_server_received_bytes`, and
  `resource.kafka.id` is `kafka_id` (its own example: `confluent_kafka_server_received_bytes
  {kafka_id="lkc-1",topic="topicA"} 10.0 1609459200`).
- "Counter metrics are classified as the Prometheus `gauge` type ... Metrics API counters are
  represented as deltas": a COUNTER is the count within one one-minute interval.

Confluent's own Grafana dashboard for the export (confluentinc/jmx-monitoring-stacks,
`ccloud-prometheus-grafana/assets/grafana/provisioning/dashboards/ccloud.json`, 2025-03-25)
agrees on the labels read here (`sum by (consumer_group_id, topic)` of the lag, `sum by
(kafka_id, topic)` of retained bytes, which it says are counted "after replication").

Checked again on 2026-12-07 (stored copies; no test fetches them): a transcription of the
`cloud` descriptors lists `consumer_lag_offsets` with `topic`, `consumer_group_id` and
`partition`, and lag queries group it by partition; Confluent's example queries
(docs.confluent.io/cloud/current/monitoring/metrics-api-examples) say a response grouped by
`principal_id` also names its `principal_name`, and queries of `request_bytes` and
`response_bytes` group by `metric.principal_id` and `metric.type` (one transcription lists only
`type`, leaving `principal_id` out). Nothing there contradicts the table below.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from costopt.simulate.openmetrics import write_openmetrics
from costopt.snapshot.metrics import Figure
from costopt.sources.prometheus.queries import (
    CATALOG,
    CONFLUENT_LABELS,
    CONFLUENT_PREFIX,
    confluent_metric,
)
from tests.fleets import fleet

REFERENCE_DATE = "2026-08-27"
# Metric -> (type in the reference, its metric labels). Every `kafka` metric also has the
# resource label `resource.kafka.id`.
REFERENCE: dict[str, tuple[str, tuple[str, ...]]] = {
    "io.confluent.kafka.server/received_bytes": ("COUNTER_INT64", ("topic",)),
    "io.confluent.kafka.server/sent_bytes": ("COUNTER_INT64", ("topic",)),
    "io.confluent.kafka.server/received_records": ("COUNTER_INT64", ("topic",)),
    "io.confluent.kafka.server/sent_records": ("COUNTER_INT64", ("topic",)),
    "io.confluent.kafka.server/retained_bytes": ("GAUGE_INT64", ("topic", "partition")),
    "io.confluent.kafka.server/partition_count": ("GAUGE_INT64", ()),
    "io.confluent.kafka.server/consumer_lag_offsets": (
        "GAUGE_INT64", ("consumer_group_id", "topic", "partition")),
    "io.confluent.kafka.server/request_bytes": ("COUNTER_INT64", ("principal_id", "type")),
    "io.confluent.kafka.server/response_bytes": ("COUNTER_INT64", ("principal_id", "type")),
}
RESOURCE_LABEL = "resource.kafka.id"
# `type` is the Kafka request type (the protocol's API name).
PRODUCE, FETCH = "Produce", "Fetch"


def exported_name(metric: str) -> str:
    """The export's translation of a metric name to Prometheus's character set."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", metric.removeprefix("io."))


def exported_label(label: str) -> str:
    """The export's label name: `resource.` / `metric.` dropped, then Prometheus's set."""
    for prefix in ("resource.", "metric."):
        label = label.removeprefix(prefix)
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def exported_labels(metric: str) -> set[str]:
    return {exported_label(RESOURCE_LABEL), *REFERENCE[metric][1]}


EXPORTED = {exported_name(m): m for m in REFERENCE}


def test_the_reference_translation_gives_the_documented_example() -> None:
    assert exported_name("io.confluent.kafka.server/received_bytes") == \
        "confluent_kafka_server_received_bytes"
    assert exported_label(RESOURCE_LABEL) == "kafka_id"
    assert exported_label("metric.topic") == "topic"


def test_the_dialects_metric_names_and_labels_are_the_references() -> None:
    for name, labels in CONFLUENT_LABELS.items():
        metric = confluent_metric(name)
        assert metric.startswith(CONFLUENT_PREFIX)
        assert metric in EXPORTED, f"{metric} is not in the Metrics API reference"
        assert set(labels) == exported_labels(EXPORTED[metric]), metric


def _queries() -> list[tuple[str, str, str | None]]:
    queries = CATALOG["confluent_cloud"]
    found = []
    for _, query in (*queries.current(), *queries.over_time()):
        found.append((query.template, query.reads, query.shard_label))
    return found


def test_every_query_reads_a_reference_metric_by_its_labels() -> None:
    """Each metric a query reads is in the reference; each label it groups, shards or filters
    by is one the reference gives that metric (a wrong name would match nothing and read as
    zero traffic, silently)."""
    queries = _queries()
    assert {reads for _, reads, _ in queries} == {
        confluent_metric(n) for n in ("received_bytes", "sent_bytes", "received_records",
                                      "retained_bytes", "consumer_lag_offsets",
                                      "request_bytes", "response_bytes")}
    for template, reads, shard in queries:
        assert reads in EXPORTED, reads
        allowed = exported_labels(EXPORTED[reads])
        used = {label.strip() for group in re.findall(r"by \(([^)]*)\)", template)
                for label in group.split(",")}
        used |= set(re.findall(r"([a-z_]+)=\\?\"", template))
        if shard is not None:
            used.add(shard)
        assert used and used <= allowed, (reads, used - allowed)
        # Only metrics the reference gives as per-minute deltas are read as rates.
        if "/ 60" in template:
            assert REFERENCE[EXPORTED[reads]][0].startswith("COUNTER"), reads
            assert "rate(" not in template and "increase(" not in template


def test_principal_bytes_come_from_produce_requests_and_fetch_responses() -> None:
    queries = CATALOG["confluent_cloud"].now
    bytes_in, bytes_out = queries[Figure.PRINCIPAL_BYTES_IN], queries[Figure.PRINCIPAL_BYTES_OUT]
    assert bytes_in.reads == exported_name("io.confluent.kafka.server/request_bytes")
    assert f'type="{PRODUCE}"' in bytes_in.template
    assert bytes_out.reads == exported_name("io.confluent.kafka.server/response_bytes")
    assert f'type="{FETCH}"' in bytes_out.template


def test_the_simulator_writes_the_references_names_and_labels() -> None:
    """What the tests load into Prometheus is what the export serves: the reference's names,
    each with exactly its labels (plus the cluster label a scrape config adds), as gauges."""
    tiny = fleet("tiny")
    (cluster,) = tiny.clusters["cluster"]
    principals = pd.DataFrame({"cluster": [cluster], "principal_id": ["sa-1"],
                               "bytes_in_per_second": [10.0], "bytes_out_per_second": [20.0]})
    text = io.StringIO()
    write_openmetrics(tiny, text, "confluent_cloud", days=1 / 24, step_seconds=600,
                      principals=principals)
    seen: dict[str, set[frozenset[str]]] = {}
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text.getvalue(), re.M))
    for metric, labels in re.findall(r"^(confluent_\w+)\{([^}]*)\}", text.getvalue(), re.M):
        seen.setdefault(metric, set()).add(frozenset(re.findall(r'(\w+)="', labels)))
    assert set(seen) == set(EXPORTED)
    for metric, label_sets in seen.items():
        assert label_sets == {frozenset({"cluster", *exported_labels(EXPORTED[metric])})}, metric
        assert types[metric] == "gauge", metric
