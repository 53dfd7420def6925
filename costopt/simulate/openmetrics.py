"""A simulated fleet as OpenMetrics text, in the dialect of a common Kafka exporter, for
`promtool tsdb create-blocks-from openmetrics` to backfill into a real Prometheus.

Dialects and what each exports (as the real exporters do; see docs/collection.md):
- `jmx`: JMX exporter on the brokers: per-topic byte and message counters, log size per
  partition, broker CPU. No consumer lag (brokers do not export it).
- `kafka_exporter`: danielqsj/kafka_exporter: partitions, offsets, replicas, consumer-group
  lag and members. No bytes and no log sizes.
- `kminion`: redpanda kminion: topic info (partitions, RF, cleanup policy), log dir size per
  topic (all replicas), high/low water marks, consumer-group lag and members.

Simplifications, stated: one series per topic (not one per topic × broker) for the JMX
counters; per-partition series split a topic's size evenly across its partitions
(`partition_level=False` writes one `partition="all"` series per topic, for fleet-scale
backfills). promtool's rules are kept: timestamps on every sample, families together, samples
of a series in time order, a final `# EOF`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import pandas as pd

from costopt.simulate.fleet import Fleet, stable_seed
from costopt.simulate.series import SeriesBlock, cluster_series

Dialect = Literal["jmx", "kafka_exporter", "kminion"]
DIALECTS: tuple[Dialect, ...] = ("jmx", "kafka_exporter", "kminion")


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: dict[str, str]) -> str:
    return ",".join(f'{k}="{escape_label_value(str(v))}"' for k, v in pairs.items())


class _Writer:
    """Streams samples family by family; a family's series are written one after another."""

    def __init__(self, out: TextIO, timestamps: np.ndarray) -> None:
        self.out = out
        self.timestamps = timestamps
        self.stamp_text = np.char.mod("%d", timestamps)
        self.samples = 0

    def family(self, name: str, kind: str) -> None:
        self.out.write(f"# TYPE {name} {kind}\n")

    def series(self, sample_name: str, labels: dict[str, str], values: np.ndarray) -> None:
        prefix = f"{sample_name}{{{_labels(labels)}}} "
        text = np.char.add(np.char.add(np.char.mod("%.15g", values), " "), self.stamp_text)
        self.out.write("".join(prefix + line + "\n" for line in text))
        self.samples += len(values)


def _resample(block: SeriesBlock, step_seconds: int, start: pd.Timestamp | None,
              stop: pd.Timestamp | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Hourly arrays in [start, stop), resampled to `step_seconds` (held values)."""
    hours = block.hours
    if start is not None or stop is not None:
        keep = np.ones(len(hours), dtype=bool)
        if start is not None:
            keep &= hours >= start
        if stop is not None:
            keep &= hours < stop
        hours = hours[keep]
        arrays = {name: getattr(block, name)[:, keep] for name in
                  ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                   "log_size_bytes")}
    else:
        arrays = {name: getattr(block, name) for name in
                  ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
                   "log_size_bytes")}
    hour_seconds = ((hours - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()
    if step_seconds == 3600:
        return hour_seconds, arrays
    stamps = np.arange(hour_seconds[0], hour_seconds[-1] + 1, step_seconds)
    index = np.clip(np.searchsorted(hour_seconds, stamps, side="right") - 1, 0,
                    len(hour_seconds) - 1)
    return stamps, {name: values[:, index] for name, values in arrays.items()}


def _counter(rates: np.ndarray, step_seconds: int, seed: int) -> np.ndarray:
    """Cumulative counters from per-second rates, starting at an arbitrary offset large
    enough that every retained message has an offset (a log start offset ≥ 0)."""
    start = np.random.default_rng(seed).integers(10**13, 2 * 10**13, size=(rates.shape[0], 1))
    return start + np.cumsum(rates.astype(np.float64) * step_seconds, axis=1)


def write_openmetrics(fleet: Fleet, out: TextIO, dialect: Dialect, *, days: float | None = None,
                      step_seconds: int = 3600, cluster_label: str = "cluster",
                      partition_level: bool = True, replica_series: bool = True,
                      skip_days: float = 0,
                      progress: Callable[[str], None] | None = None) -> int:
    """Write the fleet's history (the `days` before the last `skip_days`, default all) and
    return the samples written. Counters start afresh in each window written (Prometheus
    reads that as a counter reset, as after a broker restart)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; dialects: {', '.join(DIALECTS)}")
    if step_seconds <= 0 or 3600 % step_seconds:
        raise ValueError("step_seconds must divide an hour")
    stop = pd.Timestamp(fleet.end) - pd.Timedelta(days=skip_days) if skip_days else None
    start = ((stop if stop is not None else pd.Timestamp(fleet.end)) - pd.Timedelta(days=days)
             ) if days else None
    blocks = [cluster_series(fleet, cluster) for cluster in fleet.clusters["cluster"]]
    resampled = [_resample(block, step_seconds, start, stop) for block in blocks]
    writer = _Writer(out, resampled[0][0])
    emit = {"jmx": _jmx, "kafka_exporter": _kafka_exporter, "kminion": _kminion}[dialect]
    # One flag, two meanings of "fewer series": per-partition and per-replica series.
    detail = (partition_level, replica_series)
    for family in emit(fleet, blocks, resampled, step_seconds, cluster_label, detail):
        name, kind, sample_name, series = family
        writer.family(name, kind)
        for labels, values in series:
            writer.series(sample_name, labels, values)
        if progress is not None:
            progress(name)
    out.write("# EOF\n")
    return writer.samples


Family = tuple[str, str, str, Iterator[tuple[dict[str, str], np.ndarray]]]


def _partition_split(block: SeriesBlock, values: np.ndarray, detail: tuple[bool, bool]
                     ) -> Iterator[tuple[int, str, np.ndarray]]:
    partition_level = detail[0]
    for i, count in enumerate(block.topics["partitions"].to_numpy()):
        if partition_level:
            for p in range(int(count)):
                yield i, str(p), values[i] / count
        else:
            yield i, "all", values[i]


def _jmx(fleet: Fleet, blocks: list[SeriesBlock], data: list[tuple[np.ndarray, dict]],
         step: int, label: str, detail: tuple[bool, bool]) -> Iterator[Family]:
    counters = (("bytesin", "bytes_in_per_second"), ("bytesout", "bytes_out_per_second"),
                ("messagesin", "messages_in_per_second"))
    for short, column in counters:
        name = f"kafka_server_brokertopicmetrics_{short}"

        def series(column: str = column, short: str = short
                   ) -> Iterator[tuple[dict[str, str], np.ndarray]]:
            for block, (_, arrays) in zip(blocks, data, strict=True):
                values = _counter(arrays[column], step,
                                  stable_seed(fleet.spec.seed, block.cluster, short))
                brokers = fleet.brokers[fleet.brokers["cluster"] == block.cluster]
                count = max(len(brokers), 1)
                for i, topic in enumerate(block.topics["topic"]):
                    instance = f"{block.cluster}-broker-{stable_seed(topic) % count + 1}:7071"
                    yield ({label: block.cluster, "instance": instance, "topic": topic},
                           values[i])
        yield name, "counter", f"{name}_total", series()

    def log_size() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (_, arrays) in zip(blocks, data, strict=True):
            # Each replica's broker reports its copy: RF series per partition.
            rf = block.topics["replication_factor"].to_numpy()
            for i, partition, values in _partition_split(block, arrays["log_size_bytes"],
                                                         detail):
                topic = block.topics["topic"].iloc[i]
                for replica in range(int(rf[i]) if detail[1] else 1):
                    yield ({label: block.cluster, "instance": f"{block.cluster}-broker-r{replica}",
                            "topic": topic, "partition": partition}, np.round(values))
    yield "kafka_log_log_size", "gauge", "kafka_log_log_size", log_size()

    def cpu() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            for row in fleet.brokers[fleet.brokers["cluster"] == block.cluster].itertuples():
                yield ({label: block.cluster, "instance": f"{block.cluster}-broker-"
                        f"{row.broker_id}:7071"}, np.full(len(stamps), row.cpu_utilisation))
    yield ("java_lang_operatingsystem_processcpuload", "gauge",
           "java_lang_operatingsystem_processcpuload", cpu())


def _group_rows(fleet: Fleet, cluster: str) -> pd.DataFrame:
    return fleet.groups[fleet.groups["cluster"] == cluster]


def _lag_messages(fleet: Fleet, block: SeriesBlock, arrays: dict, stamps: np.ndarray
                  ) -> Iterator[tuple[str, str, int, np.ndarray, np.ndarray]]:
    """(group, topic, members, lag_messages[t], messages_in[t]) per group and topic, with a
    batch reader's sawtooth."""
    index = {t: i for i, t in enumerate(block.topics["topic"])}
    for row in _group_rows(fleet, block.cluster).itertuples(index=False):
        i = index[row.topic]
        messages = arrays["messages_in_per_second"][i].astype(np.float64)
        if row.kind == "abandoned":
            seconds = row.abandoned_days_ago * 86_400 + (stamps - stamps[-1])
        elif row.kind == "streaming":
            seconds = np.full(len(stamps), row.typical_lag_seconds)
        else:
            period = row.peak_lag_seconds
            seconds = (stamps + stable_seed(row.group) % 86_400) % max(period, 1.0)
        yield row.group, row.topic, int(row.members), np.round(messages * seconds), messages


def _kafka_exporter(fleet: Fleet, blocks: list[SeriesBlock], data: list[tuple[np.ndarray, dict]],
                    step: int, label: str, detail: tuple[bool, bool]) -> Iterator[Family]:
    def partitions() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            for topic, count in zip(block.topics["topic"], block.topics["partitions"],
                                    strict=True):
                yield {label: block.cluster, "topic": topic}, np.full(len(stamps), count)
    yield "kafka_topic_partitions", "gauge", "kafka_topic_partitions", partitions()

    def offsets() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (_, arrays) in zip(blocks, data, strict=True):
            counter = _counter(arrays["messages_in_per_second"], step,
                               stable_seed(fleet.spec.seed, block.cluster, "offsets"))
            for i, partition, values in _partition_split(block, counter, detail):
                yield ({label: block.cluster, "topic": block.topics["topic"].iloc[i],
                        "partition": partition}, np.round(values))
    yield ("kafka_topic_partition_current_offset", "gauge",
           "kafka_topic_partition_current_offset", offsets())

    def replicas() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            rf = block.topics["replication_factor"].to_numpy()
            for i, partition, _ in _partition_split(block, np.zeros((len(rf), 1)), detail):
                yield ({label: block.cluster, "topic": block.topics["topic"].iloc[i],
                        "partition": partition}, np.full(len(stamps), rf[i]))
    yield ("kafka_topic_partition_replicas", "gauge", "kafka_topic_partition_replicas",
           replicas())

    def lag() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, arrays) in zip(blocks, data, strict=True):
            for group, topic, _, values, _ in _lag_messages(fleet, block, arrays, stamps):
                yield {label: block.cluster, "consumergroup": group, "topic": topic}, values
    yield "kafka_consumergroup_lag_sum", "gauge", "kafka_consumergroup_lag_sum", lag()

    def members() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            rows = _group_rows(fleet, block.cluster).groupby("group")["members"].max()
            for group, count in rows.items():
                yield ({label: block.cluster, "consumergroup": str(group)},
                       np.full(len(stamps), count))
    yield "kafka_consumergroup_members", "gauge", "kafka_consumergroup_members", members()


def _kminion(fleet: Fleet, blocks: list[SeriesBlock], data: list[tuple[np.ndarray, dict]],
             step: int, label: str, detail: tuple[bool, bool]) -> Iterator[Family]:
    def info() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            for row in block.topics.itertuples(index=False):
                yield ({label: block.cluster, "topic_name": row.topic,
                        "partition_count": str(row.partitions),
                        "replication_factor": str(row.replication_factor),
                        "cleanup_policy": row.cleanup_policy}, np.ones(len(stamps)))
    yield "kminion_kafka_topic_info", "gauge", "kminion_kafka_topic_info", info()

    def size() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (_, arrays) in zip(blocks, data, strict=True):
            rf = block.topics["replication_factor"].to_numpy()[:, None]
            values = np.round(arrays["log_size_bytes"] * rf)  # all replicas, like kminion
            for i, topic in enumerate(block.topics["topic"]):
                yield {label: block.cluster, "topic_name": topic}, values[i]
    yield ("kminion_kafka_topic_log_dir_size_total_bytes", "gauge",
           "kminion_kafka_topic_log_dir_size_total_bytes", size())

    def high_water() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (_, arrays) in zip(blocks, data, strict=True):
            counter = _counter(arrays["messages_in_per_second"], step,
                               stable_seed(fleet.spec.seed, block.cluster, "offsets"))
            for i, topic in enumerate(block.topics["topic"]):
                yield {label: block.cluster, "topic_name": topic}, np.round(counter[i])
    yield ("kminion_kafka_topic_high_water_mark_sum", "gauge",
           "kminion_kafka_topic_high_water_mark_sum", high_water())

    def low_water() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        # Messages still retained = log size / bytes per stored message.
        for block, (_, arrays) in zip(blocks, data, strict=True):
            counter = _counter(arrays["messages_in_per_second"], step,
                               stable_seed(fleet.spec.seed, block.cluster, "offsets"))
            retained = arrays["log_size_bytes"] / block.topics["stored_record_bytes"].to_numpy(
            )[:, None]
            low = np.maximum(counter - retained, 0)
            for i, topic in enumerate(block.topics["topic"]):
                yield {label: block.cluster, "topic_name": topic}, np.round(low[i])
    yield ("kminion_kafka_topic_low_water_mark_sum", "gauge",
           "kminion_kafka_topic_low_water_mark_sum", low_water())

    def lag() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, arrays) in zip(blocks, data, strict=True):
            for group, topic, _, values, _ in _lag_messages(fleet, block, arrays, stamps):
                yield {label: block.cluster, "group_id": group, "topic_name": topic}, values
    yield ("kminion_kafka_consumer_group_topic_lag", "gauge",
           "kminion_kafka_consumer_group_topic_lag", lag())

    def members() -> Iterator[tuple[dict[str, str], np.ndarray]]:
        for block, (stamps, _) in zip(blocks, data, strict=True):
            rows = _group_rows(fleet, block.cluster).groupby("group")["members"].max()
            for group, count in rows.items():
                yield ({label: block.cluster, "group_id": str(group)},
                       np.full(len(stamps), count))
    yield ("kminion_kafka_consumer_group_members", "gauge",
           "kminion_kafka_consumer_group_members", members())


def write_openmetrics_file(fleet: Fleet, path: Path, dialect: Dialect, **options: object) -> int:
    with path.open("w") as out:
        return write_openmetrics(fleet, out, dialect, **options)  # type: ignore[arg-type]
