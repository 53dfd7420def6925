"""The test stack really works end to end: Kafka takes records, Prometheus sees them."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.stack.kafka_clients import commit_offsets
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack

RECORDS = 2_000
RECORD_BYTES = 512


def _instant(prometheus_url: str, query: str) -> list[dict]:
    response = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": query}, timeout=10)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _wait_for_value(prometheus_url: str, query: str, timeout_s: float = 60.0) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = _instant(prometheus_url, query)
        if result and float(result[0]["value"][1]) > 0:
            return float(result[0]["value"][1])
        time.sleep(1)
    raise AssertionError(f"{query!r} never returned a positive value within {timeout_s}s")


def test_produce_consume_and_see_it_in_prometheus(stack: Stack) -> None:
    topic = f"smoke.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": stack.kafka.bootstrap_servers})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)

    producer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers})
    payload = b"x" * RECORD_BYTES
    for index in range(RECORDS):
        producer.produce(topic, key=str(index).encode(), value=payload)
    assert producer.flush(30) == 0

    consumer = Consumer({
        "bootstrap.servers": stack.kafka.bootstrap_servers,
        "group.id": f"{topic}.readers",
        "auto.offset.reset": "earliest",
    })
    consumer.subscribe([topic])
    consumed = 0
    deadline = time.monotonic() + 60
    while consumed < RECORDS and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            consumed += 1
    commit_offsets(consumer)
    consumer.close()
    assert consumed == RECORDS

    bytes_in = _wait_for_value(
        stack.prometheus.url,
        f'sum(kafka_server_brokertopicmetrics_bytesin_total{{topic="{topic}"}})',
    )
    log_size = _wait_for_value(
        stack.prometheus.url, f'sum(kafka_log_log_size{{topic="{topic}"}})'
    )
    # Both count record bytes plus batch overhead, so they are at least the payload bytes.
    assert bytes_in >= RECORDS * RECORD_BYTES
    assert log_size >= RECORDS * RECORD_BYTES
