"""Collection on the real Kafka broker and Prometheus of the test stack.

One workload (module fixture) feeds every test here: a steady producer, a consumer group left
behind with lag, a short-retention topic past its retention window, and the same JSON records
produced uncompressed and with zstd.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from costopt.base.compression_ratios import estimate
from costopt.config import ClusterSettings, PrometheusSettings, ScheduleSettings, Settings
from costopt.cost import formulas
from costopt.sources.collect import CollectResult, collect_cluster
from costopt.store import Store, sqlite_url
from tests.collect.api_view import api_view
from tests.stack.kafka_clients import commit_offsets
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack

# Production runs until this long after the collected minute ends (77-137 s in all).
RUN_PAST_BOUNDARY_SECONDS = 5
RATE_BYTES_PER_SECOND = 100_000
RECORD_BYTES = 1_000
SHORT_RETENTION_MS = 60_000
READ_RECORDS = 3_000


@dataclass
class Workload:
    steady: str
    short: str
    plain: str
    zstd: str
    group: str
    produced_steady: int
    json_records: list[bytes]
    store: Store
    settings: Settings
    cluster: ClusterSettings
    result: CollectResult


def _json_record(rng: np.random.Generator, index: int) -> bytes:
    return json.dumps({
        "orderId": f"{rng.integers(0, 2**40):x}", "seq": index, "status": str(rng.choice(
            ["CREATED", "PAID", "SHIPPED", "DELIVERED"])),
        "customer": {"id": int(rng.integers(1, 10**6)), "country": str(rng.choice(
            ["DE", "US", "IL", "FR"]))},
        "items": [{"sku": f"SKU-{int(rng.integers(10_000, 99_999))}",
                   "qty": int(rng.integers(1, 4)), "price": round(float(rng.lognormal(3, 1)), 2)}
                  for _ in range(int(rng.integers(1, 6)))],
    }).encode()


def _produce_steady(bootstrap: str, topic: str, stop_at: float) -> int:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    payload = np.random.default_rng(1).bytes(RECORD_BYTES)  # incompressible
    sent, started = 0, time.monotonic()
    while time.monotonic() < stop_at:
        due = int((time.monotonic() - started) * RATE_BYTES_PER_SECOND / RECORD_BYTES)
        while sent < due:
            producer.produce(topic, payload)
            sent += 1
        producer.poll(0)
        time.sleep(0.01)
    producer.flush(30)
    return sent


@pytest.fixture(scope="module")
def workload(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Workload:
    bootstrap = stack.kafka.bootstrap_servers
    suffix = uuid.uuid4().hex[:6]
    names = {k: f"rt.{k}.{suffix}" for k in ("steady", "short", "plain", "zstd")}
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [
        NewTopic(names["steady"], 3, 1, config={"retention.ms": "3600000",
                                                "min.insync.replicas": "1"}),
        NewTopic(names["short"], 1, 1, config={"retention.ms": str(SHORT_RETENTION_MS),
                                               "segment.ms": "2000"}),
        NewTopic(names["plain"], 1, 1),
        NewTopic(names["zstd"], 1, 1),
    ]
    for future in admin.create_topics(topics).values():
        future.result(30)
    started = time.time()
    # Collect the first whole minute that ends at least 72 s into production: the 30 s rate
    # window lies inside the run and the short-retention topic is past its 60 s window.
    # Production lasts until just past that minute, wherever in a minute it started.
    boundary = math.ceil((started + 72) / 60) * 60
    stop_at = time.monotonic() + (boundary + RUN_PAST_BOUNDARY_SECONDS - started)
    results: dict[str, int] = {}
    threads = [threading.Thread(target=lambda t=t: results.__setitem__(
        t, _produce_steady(bootstrap, t, stop_at))) for t in (names["steady"], names["short"])]
    for thread in threads:
        thread.start()
    rng = np.random.default_rng(7)
    records = [_json_record(rng, i) for i in range(20_000)]
    for topic, codec in ((names["plain"], "none"), (names["zstd"], "zstd")):
        producer = Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                             "linger.ms": 50, "batch.size": 16_384})
        for record in records:
            producer.produce(topic, record)
            producer.poll(0)
        producer.flush(60)
    group = f"rt.readers.{suffix}"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([names["steady"]])
    read = 0
    while read < READ_RECORDS:
        for message in consumer.consume(num_messages=READ_RECORDS - read, timeout=1.0):
            if message.error() is None:
                read += 1
    commit_offsets(consumer)
    consumer.close()
    for thread in threads:
        thread.join()
    time.sleep(6)  # one more scrape after the last record
    store = Store.open(sqlite_url(Path(tmp_path_factory.mktemp("rt")) / "costopt.db"))
    cluster = ClusterSettings(
        name="stack", bootstrap_servers=bootstrap,
        prometheus=PrometheusSettings(url=stack.prometheus.url),
        instance_type="m5.large", disk_capacity_bytes=100 * 2**30, window_seconds=30,
        lookback_seconds=30, hourly_days=1, sample_records_per_topic=400)
    settings = Settings(clusters=[cluster], schedule=ScheduleSettings(collect_every_minutes=1,
                                                                      history_days=1))
    result = collect_cluster(cluster, store, settings,
                             at=datetime.fromtimestamp(boundary + 1, tz=UTC))
    return Workload(names["steady"], names["short"], names["plain"], names["zstd"], group,
                    results[names["steady"]], records, store, settings, cluster, result)


def test_workload_shows_up_with_real_configs_rates_and_lag(workload: Workload) -> None:
    snapshot = workload.store.latest_snapshot("stack").snapshot
    assert snapshot.labels["dialect"] == "jmx"
    topic = snapshot.topic(workload.steady)
    assert (topic.partitions, topic.replication_factor) == (3, 1)
    assert topic.retention_ms == 3_600_000 and topic.cleanup_policy == "delete"
    assert topic.min_insync_replicas == 1 and topic.compression_type == "producer"
    # JMX bytes-in counts record batches: payload plus a few percent of framing.
    assert topic.bytes_in_per_second == pytest.approx(RATE_BYTES_PER_SECOND, rel=0.10)
    [group] = [g for g in snapshot.groups if g.group == workload.group]
    assert group.lag_messages == workload.produced_steady - READ_RECORDS
    assert group.members == 0 and group.lag_seconds is not None and group.lag_seconds > 0
    assert snapshot.brokers[0].rack == "az-a"
    assert workload.store.jobs(kind="collect")[0]["status"] == "succeeded"


def test_storage_from_log_size_matches_bytes_in_times_retention(workload: Workload) -> None:
    """Past its retention window, a topic's measured log size and bytes-in × retention × RF
    price the same storage within 10%."""
    topic = workload.store.latest_snapshot("stack").snapshot.topic(workload.short)
    measured = formulas.storage_cost_per_month(
        formulas.stored_bytes(topic.log_size_bytes, topic.replication_factor, True), 0.08, 2**30)
    modelled = formulas.storage_cost_per_month(
        formulas.stored_bytes(float(formulas.retained_bytes_estimate(
            topic.bytes_in_per_second, topic.retention_ms, topic.retention_bytes,
            topic.partitions)), topic.replication_factor, True), 0.08, 2**30)
    assert modelled > 0
    assert measured == pytest.approx(modelled, rel=0.10)


def test_predicted_compression_ratio_matches_the_broker(workload: Workload) -> None:
    """The same JSON records, produced uncompressed and with zstd: the ratio costopt predicts
    from sampled records is within 15% of the ratio of the broker's log sizes."""
    snapshot = workload.store.latest_snapshot("stack").snapshot
    measured = (snapshot.topic(workload.zstd).log_size_bytes
                / snapshot.topic(workload.plain).log_size_bytes)
    sampled = workload.store.samples("stack", workload.plain)
    assert len(sampled) == 400  # the sampler read from the real topic, newest first
    assert set(sampled) <= set(workload.json_records)
    predicted = estimate(sampled).ratios["zstd"]
    assert predicted == pytest.approx(measured, rel=0.15)


def test_rerunning_the_same_window_replaces_the_snapshot(workload: Workload) -> None:
    before = workload.store.snapshot_count("stack")
    again = collect_cluster(workload.cluster, workload.store, workload.settings,
                            at=workload.result.taken_at)
    assert again.taken_at == workload.result.taken_at
    assert workload.store.snapshot_count("stack") == before


def test_prometheus_down_fails_cleanly_and_the_next_run_recovers(
        workload: Workload, stack: Stack) -> None:
    from costopt.sources.source_errors import SourceUnavailable

    count = workload.store.snapshot_count("stack")
    stack.prometheus.stop()
    try:
        with pytest.raises(SourceUnavailable, match=r"Prometheus at http://127\.0\.0\.1"):
            collect_cluster(workload.cluster, workload.store, workload.settings,
                            at=datetime.now(UTC))
    finally:
        stack.prometheus.start()
    failed = workload.store.jobs(kind="collect")[0]
    assert failed["status"] == "failed" and "unreachable" in failed["error"]
    assert workload.store.snapshot_count("stack") == count
    assert "unreachable" in api_view(workload.settings, workload.store)[1]["last_collect:stack"]
    collect_cluster(workload.cluster, workload.store, workload.settings, at=datetime.now(UTC))
    assert workload.store.jobs(kind="collect")[0]["status"] == "succeeded"


def test_kafka_down_fails_cleanly_and_the_next_run_recovers(
        workload: Workload, stack: Stack) -> None:
    """The broker is SIGKILLed (no clean shutdown) and restarted: it recovers its logs."""
    from costopt.sources.source_errors import SourceError

    count = workload.store.snapshot_count("stack")
    quick = workload.cluster.model_copy(update={"admin_timeout_seconds": 5})
    stack.kafka.kill()
    try:
        with pytest.raises(SourceError, match="Kafka cluster stack"):
            collect_cluster(quick, workload.store, workload.settings, at=datetime.now(UTC))
    finally:
        stack.kafka.start()
    assert workload.store.jobs(kind="collect")[0]["status"] == "failed"
    assert workload.store.snapshot_count("stack") == count
    _, checks = api_view(workload.settings, workload.store)
    assert checks["last_collect:stack"].startswith("failed: Kafka cluster stack")
    collect_cluster(quick, workload.store, workload.settings, at=datetime.now(UTC))
    assert workload.store.jobs(kind="collect")[0]["status"] == "succeeded"
    assert api_view(workload.settings, workload.store)[1]["last_collect:stack"] == "succeeded"
