"""A simulated fleet's history as the common Kafka exporters write it, for loading into a real
Prometheus (OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`) or a real
VictoriaMetrics (JSON lines for its `/api/v1/import`).

Samples come at a scrape interval (`step_seconds`, 30 s by default, as a real Prometheus
scrapes), and each dialect has the cardinality of its exporter (see docs/collection.md):
- `jmx` (JMX exporter or Strimzi on the brokers): byte and message counters per topic × broker
  that leads a partition of it; log size per partition × replica, reported by the replica's
  broker; process CPU per broker. No consumer lag (brokers do not export it).
- `kafka_exporter` (danielqsj): partitions per topic; current offset and replica count per
  partition; consumer-group lag per group × topic and members per group. No bytes, no sizes.
- `kminion`: per topic, as kminion reports it: topic info (partitions, RF, cleanup policy),
  log dir size (all replicas), high/low water mark sums; consumer-group lag and members.
- `confluent_cloud`: Confluent Cloud's Metrics API export endpoint as Prometheus stores it
  (scraped with `honor_timestamps`), labelled `kafka_id` (an `lkc-` id derived from the
  cluster's name) besides the cluster label: bytes and records received and sent per topic as
  one-minute deltas (gauges, not counters), retained bytes per partition counting every
  replica (Confluent's RF is 3 for every topic), the partition count, consumer lag per group ×
  topic × partition, and, where `principals` are given, request and response bytes per
  principal and request type for the whole cluster. A sample at t is the minute [t, t+60).

Partitions are placed as Kafka places them: partition p's replicas on consecutive brokers from
a per-topic starting broker, the first replica leading. A topic's traffic and size are split
evenly over its partitions (so a broker's counter carries the share of partitions it leads).

`partition_level=False` is a named shortcut, not what exporters write: one series per topic and
metric (counters not split by broker, one `partition="all"` size series of one replica). It
exists for fleet-scale histories that would not fit this machine at real cardinality
(`make bench` uses it for the 30-day, 50,000-topic `wix` history).

Counters are integrals of the simulated rates from the fleet's start, so any window of the
history can be written on its own and the pieces join without a counter reset. promtool's rules
are kept: timestamps on every sample, families together, samples of a series in time order, a
final `# EOF`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np
import pandas as pd

from costopt.simulate.fleet import Fleet, stable_seed
from costopt.simulate.series import SeriesBlock, cluster_series

Dialect = Literal["jmx", "kafka_exporter", "kminion", "confluent_cloud"]
DIALECTS: tuple[Dialect, ...] = ("jmx", "kafka_exporter", "kminion", "confluent_cloud")
CONFLUENT_REPLICATION_FACTOR = 3  # Confluent Cloud's, for every topic
# Bytes of a request of the other direction, per byte of payload: a fetch request per byte
# fetched, a produce response per byte produced (small, but there, so a reader must pick the
# request type).
_OTHER_DIRECTION_SHARE = 0.01
SCRAPE_INTERVAL_SECONDS = 30
GAUGES = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
          "log_size_bytes")
Labels = dict[str, str]
Series = Iterator[tuple[Labels, np.ndarray]]
Family = tuple[str, str, str, Series]  # family name, type, sample name, its series


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Labels) -> str:
    return ",".join(f'{k}="{escape_label_value(str(v))}"' for k, v in pairs.items())


@dataclass
class _Cluster:
    """One cluster's block on the written timeline, and where its partitions live."""

    block: SeriesBlock
    stamps: np.ndarray  # Unix seconds of every sample written
    hour: np.ndarray  # per stamp: index into block.hours
    offset: np.ndarray  # per stamp: seconds since that hour began
    broker_ids: np.ndarray
    cpu: np.ndarray  # per broker
    first: np.ndarray = field(init=False)  # per topic: broker index of partition 0's leader

    def __post_init__(self) -> None:
        count = len(self.broker_ids)
        self.first = np.array([stable_seed(self.block.cluster, topic) % count
                               for topic in self.block.topics["topic"]], dtype=np.int64)

    @property
    def name(self) -> str:
        return self.block.cluster

    def instance(self, broker_index: int) -> str:
        return f"{self.name}-broker-{self.broker_ids[broker_index]}:7071"

    def gauge(self, column: str) -> np.ndarray:
        """[topic, stamp]: the hourly value held over the hour (a gauge's scrape)."""
        return np.asarray(getattr(self.block, column))[:, self.hour]

    def growing(self, column: str) -> np.ndarray:
        """[topic, stamp]: the hourly values joined linearly, as a log grows between two
        scrapes (and as Prometheus must decode it: no two samples alike)."""
        values = np.asarray(getattr(self.block, column), dtype=np.float64)
        following = np.minimum(self.hour + 1, values.shape[1] - 1)
        share = self.offset / 3600.0
        return values[:, self.hour] * (1 - share) + values[:, following] * share

    def integral(self, column: str) -> np.ndarray:
        """[topic, stamp]: the rate integrated from the fleet's start to each stamp, so a
        counter built on it reads the same whatever window of history is written."""
        rates = np.asarray(getattr(self.block, column), dtype=np.float64)
        before = np.zeros_like(rates)
        np.cumsum(rates[:, :-1] * 3600.0, axis=1, out=before[:, 1:])
        result: np.ndarray = before[:, self.hour] + rates[:, self.hour] * self.offset
        return result

    def leaders(self, i: int) -> np.ndarray:
        """Partitions of topic i that each broker leads."""
        partitions = int(self.block.topics["partitions"].iloc[i])
        count = len(self.broker_ids)
        return np.bincount((self.first[i] + np.arange(partitions)) % count, minlength=count)

    def replicas(self, i: int, partition: int) -> list[int]:
        count = len(self.broker_ids)
        rf = min(int(self.block.topics["replication_factor"].iloc[i]), count)
        return [(int(self.first[i]) + partition + k) % count for k in range(rf)]


def _timeline(block: SeriesBlock, step_seconds: int, start: pd.Timestamp | None,
              stop: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stamps every `step_seconds` over the block's hours in [start, stop)."""
    hours = block.hours
    keep = np.ones(len(hours), dtype=bool)
    if start is not None:
        keep &= hours >= start
    if stop is not None:
        keep &= hours < stop
    kept = np.flatnonzero(keep)
    hour_seconds = ((hours - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()
    within = np.arange(0, 3600, step_seconds, dtype=np.int64)
    stamps = (hour_seconds[kept][:, None] + within[None, :]).ravel()
    return stamps, np.repeat(kept, len(within)), np.tile(within, len(kept))


def _counter_start(seed: int, rows: int) -> np.ndarray:
    """An arbitrary start per counter, large enough that every retained message has an
    offset (a log start offset ≥ 0)."""
    return np.random.default_rng(seed).integers(10**13, 2 * 10**13, size=rows)


def _whole(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.rint(values).astype(np.int64)
    return result


# Dialects -----------------------------------------------------------------------------------

def _jmx(fleet: Fleet, clusters: list[_Cluster], label: str, partition_level: bool
         ) -> Iterator[Family]:
    counters = (("bytesin", "bytes_in_per_second"), ("bytesout", "bytes_out_per_second"),
                ("messagesin", "messages_in_per_second"))
    for short, column in counters:
        name = f"kafka_server_brokertopicmetrics_{short}"

        def series(column: str = column, short: str = short) -> Series:
            for c in clusters:
                integral = c.integral(column)
                starts = _counter_start(stable_seed(fleet.spec.seed, c.name, short),
                                        len(integral))
                for i, topic in enumerate(c.block.topics["topic"]):
                    if not partition_level:
                        yield ({label: c.name, "instance": c.instance(int(c.first[i])),
                                "topic": topic}, _whole(starts[i] + integral[i]))
                        continue
                    led = c.leaders(i)
                    partitions = led.sum()
                    by_share: dict[int, np.ndarray] = {}  # brokers leading as many: one array
                    for broker in np.flatnonzero(led):
                        count = int(led[broker])
                        if count not in by_share:
                            by_share[count] = _whole(starts[i] + integral[i] * count / partitions)
                        yield ({label: c.name, "instance": c.instance(int(broker)),
                                "topic": topic}, by_share[count])
        yield name, "counter", f"{name}_total", series()

    def log_size() -> Series:
        for c in clusters:
            sizes = c.growing("log_size_bytes")
            for i, topic in enumerate(c.block.topics["topic"]):
                partitions = int(c.block.topics["partitions"].iloc[i])
                if not partition_level:
                    yield ({label: c.name, "instance": c.instance(int(c.first[i])),
                            "topic": topic, "partition": "all"}, _whole(sizes[i]))
                    continue
                # Every replica's broker reports its own copy of each partition.
                values = _whole(sizes[i] / partitions)
                for partition in range(partitions):
                    for broker in c.replicas(i, partition):
                        yield ({label: c.name, "instance": c.instance(broker), "topic": topic,
                                "partition": str(partition)}, values)
    yield "kafka_log_log_size", "gauge", "kafka_log_log_size", log_size()

    def cpu() -> Series:
        for c in clusters:
            for b in range(len(c.broker_ids)):
                yield {label: c.name, "instance": c.instance(b)}, np.full(len(c.stamps),
                                                                         c.cpu[b])
    yield ("java_lang_operatingsystem_processcpuload", "gauge",
           "java_lang_operatingsystem_processcpuload", cpu())


def _group_rows(fleet: Fleet, cluster: str) -> pd.DataFrame:
    return fleet.groups[fleet.groups["cluster"] == cluster]


def _lag_messages(fleet: Fleet, c: _Cluster) -> Iterator[tuple[str, str, np.ndarray]]:
    """(group, topic, lag in messages per stamp), with a batch reader's sawtooth."""
    index = {t: i for i, t in enumerate(c.block.topics["topic"])}
    messages = c.gauge("messages_in_per_second")
    stamps = c.stamps
    for row in _group_rows(fleet, c.name).itertuples(index=False):
        rate = messages[index[row.topic]].astype(np.float64)
        if row.kind == "abandoned":
            seconds = row.abandoned_days_ago * 86_400 + (stamps - stamps[-1])
        elif row.kind == "streaming":
            seconds = np.full(len(stamps), row.typical_lag_seconds)
        else:
            period = row.peak_lag_seconds
            seconds = (stamps + stable_seed(row.group) % 86_400) % max(period, 1.0)
        yield row.group, row.topic, _whole(rate * seconds)


def _members(fleet: Fleet, c: _Cluster, label: str, group_label: str) -> Series:
    rows = _group_rows(fleet, c.name).groupby("group")["members"].max()
    for group, count in rows.items():
        yield {label: c.name, group_label: str(group)}, np.full(len(c.stamps), int(count))


def _kafka_exporter(fleet: Fleet, clusters: list[_Cluster], label: str,
                    partition_level: bool) -> Iterator[Family]:
    def partitions() -> Series:
        for c in clusters:
            for topic, count in zip(c.block.topics["topic"], c.block.topics["partitions"],
                                    strict=True):
                yield {label: c.name, "topic": topic}, np.full(len(c.stamps), int(count))
    yield "kafka_topic_partitions", "gauge", "kafka_topic_partitions", partitions()

    def per_partition(values: Callable[[_Cluster], Iterator[np.ndarray]]) -> Series:
        for c in clusters:
            for i, (topic, array) in enumerate(zip(c.block.topics["topic"], values(c),
                                                   strict=True)):
                count = int(c.block.topics["partitions"].iloc[i]) if partition_level else 1
                for partition in range(count):
                    yield ({label: c.name, "topic": topic,
                            "partition": str(partition) if partition_level else "all"}, array)

    def offsets(c: _Cluster) -> Iterator[np.ndarray]:
        integral = c.integral("messages_in_per_second")
        starts = _counter_start(stable_seed(fleet.spec.seed, c.name, "offsets"), len(integral))
        shares = c.block.topics["partitions"].to_numpy() if partition_level else None
        for i in range(len(integral)):
            yield _whole(starts[i] + integral[i] / (shares[i] if shares is not None else 1))
    yield ("kafka_topic_partition_current_offset", "gauge",
           "kafka_topic_partition_current_offset", per_partition(offsets))

    def replicas(c: _Cluster) -> Iterator[np.ndarray]:
        for rf in c.block.topics["replication_factor"]:
            yield np.full(len(c.stamps), int(rf))
    yield ("kafka_topic_partition_replicas", "gauge", "kafka_topic_partition_replicas",
           per_partition(replicas))

    def lag() -> Series:
        for c in clusters:
            for group, topic, values in _lag_messages(fleet, c):
                yield {label: c.name, "consumergroup": group, "topic": topic}, values
    yield "kafka_consumergroup_lag_sum", "gauge", "kafka_consumergroup_lag_sum", lag()

    def members() -> Series:
        for c in clusters:
            yield from _members(fleet, c, label, "consumergroup")
    yield "kafka_consumergroup_members", "gauge", "kafka_consumergroup_members", members()


def _kminion(fleet: Fleet, clusters: list[_Cluster], label: str,
             partition_level: bool) -> Iterator[Family]:  # noqa: ARG001 (one signature)
    def info() -> Series:
        for c in clusters:
            for row in c.block.topics.itertuples(index=False):
                yield ({label: c.name, "topic_name": row.topic,
                        "partition_count": str(row.partitions),
                        "replication_factor": str(row.replication_factor),
                        "cleanup_policy": row.cleanup_policy}, np.ones(len(c.stamps),
                                                                       dtype=np.int64))
    yield "kminion_kafka_topic_info", "gauge", "kminion_kafka_topic_info", info()

    def size() -> Series:
        for c in clusters:
            rf = c.block.topics["replication_factor"].to_numpy()[:, None]
            values = _whole(c.growing("log_size_bytes") * rf)  # all replicas, like kminion
            for i, topic in enumerate(c.block.topics["topic"]):
                yield {label: c.name, "topic_name": topic}, values[i]
    yield ("kminion_kafka_topic_log_dir_size_total_bytes", "gauge",
           "kminion_kafka_topic_log_dir_size_total_bytes", size())

    def high_water(c: _Cluster) -> np.ndarray:
        integral = c.integral("messages_in_per_second")
        starts = _counter_start(stable_seed(fleet.spec.seed, c.name, "offsets"), len(integral))
        result: np.ndarray = starts[:, None] + integral
        return result

    def high() -> Series:
        for c in clusters:
            values = _whole(high_water(c))
            for i, topic in enumerate(c.block.topics["topic"]):
                yield {label: c.name, "topic_name": topic}, values[i]
    yield ("kminion_kafka_topic_high_water_mark_sum", "gauge",
           "kminion_kafka_topic_high_water_mark_sum", high())

    def low() -> Series:
        # Messages still retained = log size / bytes per stored message.
        for c in clusters:
            record = c.block.topics["stored_record_bytes"].to_numpy()[:, None]
            values = _whole(np.maximum(high_water(c) - c.growing("log_size_bytes") / record,
                                       0))
            for i, topic in enumerate(c.block.topics["topic"]):
                yield {label: c.name, "topic_name": topic}, values[i]
    yield ("kminion_kafka_topic_low_water_mark_sum", "gauge",
           "kminion_kafka_topic_low_water_mark_sum", low())

    def lag() -> Series:
        for c in clusters:
            for group, topic, values in _lag_messages(fleet, c):
                yield {label: c.name, "group_id": group, "topic_name": topic}, values
    yield ("kminion_kafka_consumer_group_topic_lag", "gauge",
           "kminion_kafka_consumer_group_topic_lag", lag())

    def members() -> Series:
        for c in clusters:
            yield from _members(fleet, c, label, "group_id")
    yield ("kminion_kafka_consumer_group_members", "gauge",
           "kminion_kafka_consumer_group_members", members())


def principal_rates(block: SeriesBlock, principals: pd.DataFrame
                    ) -> dict[str, dict[str, np.ndarray | float]]:
    """Bytes per second each principal produces and fetches on the block's cluster, per hour
    of the block. `principals` either plants shares per topic (the fleet's own: cluster,
    topic, principal_id, produce_share of the topic's bytes in, readers of it, each reading
    all of it) or gives each principal fixed rates (cluster, principal_id,
    bytes_in_per_second, bytes_out_per_second)."""
    rows = principals[principals["cluster"] == block.cluster]
    rates: dict[str, dict[str, np.ndarray | float]] = {}
    if "produce_share" not in rows:
        for row in rows.itertuples(index=False):
            rates[str(row.principal_id)] = {
                "bytes_in_per_second": float(row.bytes_in_per_second),
                "bytes_out_per_second": float(row.bytes_out_per_second)}
        return rates
    index = {topic: i for i, topic in enumerate(block.topics["topic"])}
    bytes_in = np.asarray(block.bytes_in_per_second, dtype=np.float64)
    for principal, part in rows.groupby("principal_id", sort=True):
        at = part["topic"].map(index).to_numpy()
        rates[str(principal)] = {
            "bytes_in_per_second": part["produce_share"].to_numpy(dtype=np.float64)
            @ bytes_in[at],
            "bytes_out_per_second": part["readers"].to_numpy(dtype=np.float64)
            @ bytes_in[at]}
    return rates


def kafka_id(cluster: str) -> str:
    """A stable Confluent-style cluster id for a simulated cluster."""
    return f"lkc-{stable_seed('kafka_id', cluster) % 16**6:06x}"


def _confluent_cloud(fleet: Fleet, clusters: list[_Cluster], label: str,
                     partition_level: bool, principals: pd.DataFrame | None = None
                     ) -> Iterator[Family]:
    minute = 60.0

    def ids(c: _Cluster) -> Labels:
        return {label: c.name, "kafka_id": kafka_id(c.name)}

    def per_topic(values: Callable[[_Cluster], np.ndarray]) -> Series:
        for c in clusters:
            array = values(c)
            for i, topic in enumerate(c.block.topics["topic"]):
                yield {**ids(c), "topic": topic}, array[i]

    def deltas(column: str) -> Callable[[_Cluster], np.ndarray]:
        return lambda c: _whole(c.gauge(column) * minute)

    def sent_records(c: _Cluster) -> np.ndarray:
        # Records read: records written × how many times their bytes are read.
        bytes_in = c.gauge("bytes_in_per_second").astype(np.float64)
        fan_out = np.divide(c.gauge("bytes_out_per_second"), bytes_in,
                            out=np.zeros_like(bytes_in), where=bytes_in > 0)
        return _whole(c.gauge("messages_in_per_second") * fan_out * minute)

    for name, values in (("received_bytes", deltas("bytes_in_per_second")),
                         ("sent_bytes", deltas("bytes_out_per_second")),
                         ("received_records", deltas("messages_in_per_second")),
                         ("sent_records", sent_records)):
        metric = f"confluent_kafka_server_{name}"
        yield metric, "gauge", metric, per_topic(values)

    def retained() -> Series:
        for c in clusters:
            sizes = c.growing("log_size_bytes") * CONFLUENT_REPLICATION_FACTOR
            for i, topic in enumerate(c.block.topics["topic"]):
                partitions = int(c.block.topics["partitions"].iloc[i]) if partition_level else 1
                values = _whole(sizes[i] / partitions)
                for partition in range(partitions):
                    yield ({**ids(c), "topic": topic,
                            "partition": str(partition) if partition_level else "all"}, values)
    yield ("confluent_kafka_server_retained_bytes", "gauge",
           "confluent_kafka_server_retained_bytes", retained())

    def partition_count() -> Series:
        for c in clusters:
            total = int(c.block.topics["partitions"].sum())
            yield ids(c), np.full(len(c.stamps), total)
    yield ("confluent_kafka_server_partition_count", "gauge",
           "confluent_kafka_server_partition_count", partition_count())

    def lag() -> Series:
        for c in clusters:
            partitions = dict(zip(c.block.topics["topic"], c.block.topics["partitions"],
                                  strict=True))
            for group, topic, values in _lag_messages(fleet, c):
                count = int(partitions[topic]) if partition_level else 1
                for k in range(count):
                    # Partition k's share: the shares sum to the group's lag exactly.
                    yield ({**ids(c), "consumer_group_id": group, "topic": topic,
                            "partition": str(k) if partition_level else "all"},
                           (values + (count - 1 - k)) // count)
    yield ("confluent_kafka_server_consumer_lag_offsets", "gauge",
           "confluent_kafka_server_consumer_lag_offsets", lag())

    if principals is None or principals.empty:
        return

    def by_principal(main: str, column: str, other: str) -> Series:
        for c in clusters:
            for principal, rates in principal_rates(c.block, principals).items():
                values = np.broadcast_to(rates[column], len(c.hour)) if np.ndim(
                    rates[column]) == 0 else np.asarray(rates[column])[c.hour]
                base = {**ids(c), "principal_id": principal}
                yield {**base, "type": main}, _whole(values * minute)
                yield ({**base, "type": other},
                       _whole(values * minute * _OTHER_DIRECTION_SHARE))
    # Produce requests carry the bytes a principal writes; fetch responses those it reads.
    yield ("confluent_kafka_server_request_bytes", "gauge",
           "confluent_kafka_server_request_bytes",
           by_principal("Produce", "bytes_in_per_second", "Fetch"))
    yield ("confluent_kafka_server_response_bytes", "gauge",
           "confluent_kafka_server_response_bytes",
           by_principal("Fetch", "bytes_out_per_second", "Produce"))


# Output formats ------------------------------------------------------------------------------

class _Texts:
    """Value texts per array, kept for the last few arrays: an exporter repeats the same values
    across a topic's partitions and replicas, and formatting is most of the writing time."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.cache: list[tuple[np.ndarray, list[str]]] = []

    def __call__(self, values: np.ndarray) -> list[str]:
        for array, texts in self.cache:
            if array is values:
                return texts
        convert = str if values.dtype.kind in "iu" else repr
        texts = list(map(convert, values.tolist()))
        self.cache.append((values, texts))
        if len(self.cache) > self.size:
            self.cache.pop(0)
        return texts


class _OpenMetrics:
    def __init__(self, stamps: np.ndarray) -> None:
        self.suffixes = [f" {t}\n" for t in stamps.tolist()]
        self.texts = _Texts()
        self.last: tuple[list[str], list[str]] | None = None  # (value texts, their lines)

    def family(self, name: str, kind: str) -> str:
        return f"# TYPE {name} {kind}\n"

    def series(self, sample_name: str, labels: Labels, values: np.ndarray) -> str:
        texts = self.texts(values)
        if self.last is not None and self.last[0] is texts:
            lines = self.last[1]
        else:
            lines = [v + s for v, s in zip(texts, self.suffixes, strict=True)]
            self.last = (texts, lines)
        prefix = f"{sample_name}{{{_labels(labels)}}} "
        return prefix + prefix.join(lines)

    def end(self) -> str:
        return "# EOF\n"


class _VictoriaMetricsJson:
    """VictoriaMetrics' JSON line format: one series per line, timestamps in milliseconds."""

    def __init__(self, stamps: np.ndarray) -> None:
        self.stamps = '],"timestamps":[' + ",".join(str(t * 1000) for t in stamps.tolist()) + "]}\n"
        self.texts = _Texts()

    def family(self, name: str, kind: str) -> str:  # noqa: ARG002 (JSON lines have no header)
        return ""

    def series(self, sample_name: str, labels: Labels, values: np.ndarray) -> str:
        metric = json.dumps({"__name__": sample_name, **labels}, ensure_ascii=False,
                            separators=(",", ":"))
        return '{"metric":' + metric + ',"values":[' + ",".join(self.texts(values)) + self.stamps

    def end(self) -> str:
        return ""


@dataclass
class Count:
    """Samples rendered so far (a generator cannot return its count)."""

    samples: int = 0
    series: int = 0


def render(fleet: Fleet, dialect: Dialect, output: Literal["openmetrics", "victoriametrics"],
           *, days: float | None = None, step_seconds: int = SCRAPE_INTERVAL_SECONDS,
           cluster_label: str = "cluster", partition_level: bool = True,
           skip_days: float = 0, count: Count | None = None,
           progress: Callable[[str], None] | None = None,
           principals: pd.DataFrame | None = None) -> Iterator[str]:
    """The fleet's history (the `days` before the last `skip_days`, default all) as text
    pieces in the chosen format, one series at a time. `principals` (see `principal_rates`;
    default the fleet's own) are written by the `confluent_cloud` dialect, the only one that
    knows who sent a byte."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; dialects: {', '.join(DIALECTS)}")
    if step_seconds <= 0 or 3600 % step_seconds:
        raise ValueError("step_seconds must divide an hour")
    stop = pd.Timestamp(fleet.end) - pd.Timedelta(days=skip_days) if skip_days else None
    start = ((stop if stop is not None else pd.Timestamp(fleet.end)) - pd.Timedelta(days=days)
             ) if days else None
    clusters = []
    for name in fleet.clusters["cluster"]:
        block = cluster_series(fleet, name)
        brokers = fleet.brokers[fleet.brokers["cluster"] == name]
        stamps, hour, offset = _timeline(block, step_seconds, start, stop)
        clusters.append(_Cluster(block, stamps, hour, offset,
                                 brokers["broker_id"].to_numpy(),
                                 brokers["cpu_utilisation"].to_numpy(dtype=np.float64)))
    if not len(clusters) or not len(clusters[0].stamps):
        raise ValueError("nothing to write: the window holds no hour of the fleet's history")
    count = count if count is not None else Count()
    writer = (_OpenMetrics if output == "openmetrics" else _VictoriaMetricsJson)(
        clusters[0].stamps)
    if dialect == "confluent_cloud":
        if principals is None:
            principals = getattr(fleet, "principals", None)
        families = _confluent_cloud(fleet, clusters, cluster_label, partition_level, principals)
    else:
        emit = {"jmx": _jmx, "kafka_exporter": _kafka_exporter, "kminion": _kminion}[dialect]
        families = emit(fleet, clusters, cluster_label, partition_level)
    for name, kind, sample_name, series in families:
        yield writer.family(name, kind)
        for labels, values in series:
            yield writer.series(sample_name, labels, values)
            count.samples += len(values)
            count.series += 1
        if progress is not None:
            progress(name)
    yield writer.end()


def write_openmetrics(fleet: Fleet, out: TextIO, dialect: Dialect, **options: Any) -> int:
    """Write the history as OpenMetrics text (see `render` for the options); returns the
    samples written."""
    count = Count()
    for piece in render(fleet, dialect, "openmetrics", count=count, **options):
        out.write(piece)
    return count.samples


def write_openmetrics_file(fleet: Fleet, path: Path, dialect: Dialect, **options: Any) -> int:
    with path.open("w") as out:
        return write_openmetrics(fleet, out, dialect, **options)


def victoriametrics_import(fleet: Fleet, dialect: Dialect, *, count: Count | None = None,
                           batch_bytes: int = 8 << 20, **options: Any) -> Iterator[bytes]:
    """The history as the body of a VictoriaMetrics `/api/v1/import` request, in batches, so
    it streams without being held in memory."""
    parts: list[str] = []
    size = 0
    for piece in render(fleet, dialect, "victoriametrics", count=count, **options):
        parts.append(piece)
        size += len(piece)
        if size >= batch_bytes:
            yield "".join(parts).encode()
            parts, size = [], 0
    if parts:
        yield "".join(parts).encode()
