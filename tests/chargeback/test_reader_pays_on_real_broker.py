"""The reader pays, on the real Kafka broker of the test stack.

One topic, three partitions, written evenly. Two consumer groups read it live: `alpha` reads
every partition, `beta` only partition 0, a third of the bytes. Two collects a minute apart
see their committed offsets move; costopt measures each group's reads from that progress ×
the topic's bytes per message, and splits the topic's consumer-side cost (Confluent Cloud's
$/GB read, and the fetch load on compute) 3:1 between the groups' owners.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from fastapi.testclient import TestClient

from api.app import create_app
from costopt.analyze.analysis import FleetAnalysis, analyze_store
from costopt.config import (
    ApiSettings,
    ClusterSettings,
    OwnerSettings,
    PrometheusSettings,
    ScheduleSettings,
    Settings,
)
from costopt.cost.allocation import COMPONENTS
from costopt.cost.chargeback import CONSUMER, PRODUCER, consumer_micros
from costopt.cost.owners import OwnerRule
from costopt.sources.collect import collect_cluster
from costopt.sources.kafka.admin import COORDINATOR_MOVING, error_code
from costopt.store import Store, sqlite_url
from tests.stack.kafka_clients import commit_offsets
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
PARTITIONS = 3
RECORD = b"r" * 1000
RECORDS_PER_SECOND = 300  # about 300 kB/s


@dataclass
class Reading:
    topic: str
    alpha: str
    beta: str
    store: Store
    settings: Settings
    analysis: FleetAnalysis


def _produce(bootstrap: str, topic: str, stop: threading.Event) -> None:
    """Evenly over the partitions, so a group reading one of them reads a third."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    sent, started = 0, time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - started) * RECORDS_PER_SECOND)
        while sent < due:
            producer.produce(topic, RECORD, partition=sent % PARTITIONS)
            sent += 1
        producer.poll(0)
        time.sleep(0.02)
    producer.flush(30)


def _read(bootstrap: str, group: str, topic: str, partitions: list[int],
          stop: threading.Event) -> None:
    """Read the given partitions from the start and commit after every batch."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    while not stop.is_set():
        batch = consumer.consume(num_messages=500, timeout=0.2)
        if any(m.error() is None for m in batch):
            commit_offsets(consumer)
    consumer.close()


def _scraped(stack: Stack, topic: str) -> bool:
    body = httpx.get(f"{stack.prometheus.url}/api/v1/query", timeout=10, params={
        "query": f'kafka_server_brokertopicmetrics_messagesin_total{{topic="{topic}"}}'}).json()
    return bool(body["data"]["result"])


def _committed(bootstrap: str, group: str, topic: str, partitions: list[int]) -> bool:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in partitions], 10)
    except KafkaException as failure:
        if error_code(failure) in COORDINATOR_MOVING:
            return False  # asked again a second later
        raise
    finally:
        consumer.close()
    return all(o.offset > 0 for o in offsets)


def _workload_ready(stack: Stack, topic: str, alpha: str, beta: str) -> list[str]:
    """What is still missing before the first collect: an empty list once Prometheus holds
    the topic and both groups have committed offsets on the partitions they read."""
    bootstrap = stack.kafka.bootstrap_servers
    missing: list[str] = []
    if not _scraped(stack, topic):
        missing.append(f"Prometheus has no samples of {topic}")
    for group, partitions in ((alpha, [0, 1, 2]), (beta, [0])):
        if not _committed(bootstrap, group, topic, partitions):
            missing.append(f"{group} has not committed on partitions {partitions}")
    return missing


@pytest.fixture(scope="module")
def reading(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reading]:
    bootstrap = stack.kafka.bootstrap_servers
    suffix = uuid.uuid4().hex[:6]
    topic, alpha, beta = f"rp.orders.{suffix}", f"alpha-{suffix}", f"beta-{suffix}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(30)
    stop = threading.Event()
    threads = [threading.Thread(target=_produce, args=(bootstrap, topic, stop), daemon=True),
               threading.Thread(target=_read, args=(bootstrap, alpha, topic, [0, 1, 2], stop),
                                daemon=True),
               threading.Thread(target=_read, args=(bootstrap, beta, topic, [0], stop),
                                daemon=True)]
    for thread in threads:
        thread.start()
    directory = Path(tmp_path_factory.mktemp("reader-pays"))
    store = Store.open(sqlite_url(directory / "costopt.db"))
    cluster = ClusterSettings(
        name="stack", bootstrap_servers=bootstrap,
        prometheus=PrometheusSettings(url=stack.prometheus.url), catalog="confluent-cloud",
        instance_type="eCKU", window_seconds=30, lookback_seconds=30, hourly_days=1,
        sample_records_per_topic=0)
    settings = Settings(
        clusters=[cluster], api=ApiSettings(auth_enabled=False),
        schedule=ScheduleSettings(collect_every_minutes=1, history_days=1),
        owners=OwnerSettings(group_rules=[OwnerRule(pattern=r"^alpha-", owner="team-alpha"),
                                          OwnerRule(pattern=r"^beta-", owner="team-beta")]))
    try:
        deadline = time.time() + 60
        while missing := _workload_ready(stack, topic, alpha, beta):
            if time.time() > deadline:
                pytest.fail(f"the workload did not start within 60 s: {'; '.join(missing)}")
            time.sleep(1)
        # First collect now, from the Admin API alone: both groups have offsets (Prometheus
        # may hold no whole minute yet on a stack just started). The second, in full, at the
        # first minute boundary at least 40 s on: its 30 s rate window lies in the workload.
        collect_cluster(cluster.model_copy(update={"prometheus": None}), store, settings,
                        at=datetime.now(UTC))
        boundary = math.ceil((time.time() + 40) / 60) * 60
        while time.time() < boundary + 6:
            time.sleep(0.5)
        collect_cluster(cluster, store, settings,
                        at=datetime.fromtimestamp(boundary + 1, tz=UTC))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    yield Reading(topic, alpha, beta, store, settings, analyze_store(store, settings))


def test_two_groups_reading_3_to_1_pay_3_to_1(reading: Reading) -> None:
    cluster = reading.analysis.clusters["stack"]
    rows = cluster.chargeback
    assert rows is not None
    readers = rows[(rows["topic"] == reading.topic) & (rows["side"] == CONSUMER)]
    by_group = readers.set_index("group")
    assert set(by_group.index) == {reading.alpha, reading.beta}
    assert (by_group["split"] == "group").all() and (by_group["measured_share"] == 1).all()
    assert by_group.loc[reading.alpha, "owner"] == "team-alpha"
    assert by_group.loc[reading.beta, "owner"] == "team-beta"
    alpha = int(by_group.loc[reading.alpha, "monthly_cost_micros"])
    beta = int(by_group.loc[reading.beta, "monthly_cost_micros"])
    assert beta > 0
    print(f"reader pays: alpha {alpha / 1e6:.6f}, beta {beta / 1e6:.6f} "
          f"{cluster.model.cost.currency}/month, ratio {alpha / beta:.3f}")
    assert alpha / beta == pytest.approx(3.0, rel=0.10)
    # The readers' rows are the topic's whole consumer side, to the micro-unit, and the
    # producer row keeps the rest.
    cost = cluster.model.cost
    index = list(cost.frame["topic"]).index(reading.topic)
    consumer = consumer_micros(cost)
    for component in COMPONENTS:
        column = f"{component}_micros"
        assert int(readers[column].sum()) == int(consumer[component][index])
        topic_rows = rows[rows["topic"] == reading.topic]
        assert int(topic_rows[column].sum()) == int(
            cost.rows.loc[cost.rows["topic"] == reading.topic, column].iloc[0])
    assert int(rows["monthly_cost_micros"].sum()) == cost.bill_total_micros
    producer = rows[(rows["topic"] == reading.topic) & (rows["side"] == PRODUCER)]
    assert producer["owner"].tolist() == ["rp"]


def test_the_costs_endpoint_charges_the_readers_owners(reading: Reading) -> None:
    with TestClient(create_app(reading.settings, reading.store)) as client:
        items = client.get("/v1/costs", params={"group_by": "owner", "side": "consumer",
                                                "limit": 1000}).json()["items"]
        owners = {i["owner"]: i for i in items}
        alpha = Decimal(owners["team-alpha"]["monthly_cost"])
        beta = Decimal(owners["team-beta"]["monthly_cost"])
        assert float(alpha / beta) == pytest.approx(3.0, rel=0.10)
        assert owners["team-alpha"]["side"] == "consumer"
        assert owners["team-alpha"]["measured_share"] == 1.0
        both = client.get("/v1/costs", params={"group_by": "cluster", "side": "both"}).json()
        bill = client.get("/v1/clusters/stack").json()["monthly_cost"]
        assert both["items"][0]["monthly_cost"] == bill
