"""Topics' configs and offsets from the Admin API while partitions' leaders move and topics
come and go, as they do on a fleet that creates and deletes topics all day.

Right after topics are created, the real broker answers some offset requests with
NOT_LEADER_FOR_PARTITION (seen here at 5,000 topics: the collect used to fail on it), so the
first test collects at once after creating 600 topics. Whether this broker says so in a given
run is up to its timing; the rest pin each case down. A leader that moves on demand needs
a broker restart at the right instant, so that answer is injected: the broker's answers pass
through a wrapper that turns the first answers for one partition into NOT_LEADER_FOR_PARTITION
(or librdkafka's own _UNKNOWN_PARTITION).
Topic deletions are real: the wrapper deletes a topic on the broker just before the request
that would have read it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from costopt.config import ClusterSettings
from costopt.sources.kafka.admin import KafkaAdminSource
from costopt.sources.source_errors import SourceError
from tests.stack.kafka_clients import failed_future
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack


@dataclass
class Topics:
    bootstrap: str
    names: list[str]  # two partitions each; partition p of topic i holds i + p + 1 records
    admin: AdminClient


def _source(bootstrap: str, timeout: float = 30) -> KafkaAdminSource:
    return KafkaAdminSource(ClusterSettings(name="stack", bootstrap_servers=bootstrap,
                                            admin_timeout_seconds=timeout))


def _create(admin: AdminClient, names: list[str], partitions: int) -> None:
    for future in admin.create_topics([NewTopic(n, partitions, 1) for n in names],
                                      request_timeout=60).values():
        future.result(120)


def _delete(admin: AdminClient, name: str) -> None:
    admin.delete_topics([name], request_timeout=30)[name].result(60)
    deadline = time.monotonic() + 30
    while name in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture(scope="module")
def topics(stack: Stack) -> Iterator[Topics]:
    bootstrap = stack.kafka.bootstrap_servers
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"to-{uuid.uuid4().hex[:6]}-{i}" for i in range(4)]
    _create(admin, names, 2)
    producer = Producer({"bootstrap.servers": bootstrap})
    for index, name in enumerate(names):
        for partition in range(2):
            for _ in range(index + partition + 1):
                producer.produce(name, b"x", partition=partition)
    assert producer.flush(30) == 0
    yield Topics(bootstrap, names, admin)



class _Churn:
    """The real AdminClient; `moving` partitions answer NOT_LEADER_FOR_PARTITION to their
    first offset requests (a count each), and `delete_before` deletes a topic on the broker
    just before the first request of the named kind ("configs" or "offsets")."""

    def __init__(self, real: AdminClient, moving: dict[tuple[str, int], int] | None = None,
                 delete_before: tuple[str, str] | None = None,
                 answer: int = KafkaError.NOT_LEADER_FOR_PARTITION) -> None:
        self.real, self.moving, self.delete_before = real, dict(moving or {}), delete_before
        self.answer = answer  # what the moving partitions answer
        self.offset_requests = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def _maybe_delete(self, kind: str) -> None:
        if self.delete_before and self.delete_before[0] == kind:
            _delete(self.real, self.delete_before[1])
            self.delete_before = None

    def describe_configs(self, resources: list[Any], **options: Any) -> Any:
        self._maybe_delete("configs")
        return self.real.describe_configs(resources, **options)

    def list_offsets(self, request: dict[Any, Any], **options: Any) -> dict[Any, Any]:
        self._maybe_delete("offsets")
        self.offset_requests += 1
        answers = dict(self.real.list_offsets(request, **options))
        for tp in list(answers):
            key = (tp.topic, tp.partition)
            if self.moving.get(key, 0) > 0:
                self.moving[key] -= 1
                answers[tp] = failed_future(self.answer)
        return answers


def test_a_collect_right_after_600_topics_are_created_reads_every_topic_it_lists(
        stack: Stack) -> None:
    bootstrap = stack.kafka.bootstrap_servers
    admin = AdminClient({"bootstrap.servers": bootstrap})
    prefix = f"burst-{uuid.uuid4().hex[:6]}-"
    _create(admin, [f"{prefix}{i:03d}" for i in range(600)], 2)
    source = _source(bootstrap)
    deadline = time.monotonic() + 30
    while True:  # at once: leaders may not all be known yet
        data = source.describe()
        ours = {name: t for name, t in data.topics.items() if name.startswith(prefix)}
        if ours:
            break
        # The broker's metadata may not list the new topics yet: nothing was tested.
        assert time.monotonic() < deadline, "the metadata never listed the new topics"
        time.sleep(0.2)
    for name, topic in ours.items():
        assert set(topic.end_offsets) == set(topic.start_offsets) == {0, 1}, name
        assert "retention.ms" in topic.configs, name


def test_partitions_whose_leader_moves_are_asked_again(topics: Topics) -> None:
    source = _source(topics.bootstrap)
    first = topics.names[1]
    churn = _Churn(source.admin, moving={(first, 1): 2})
    source.admin = churn  # type: ignore[assignment]
    data = source.describe()
    assert data.topics[first].end_offsets == {0: 2, 1: 3}
    assert data.topics[first].start_offsets == {0: 0, 1: 0}
    for index, name in enumerate(topics.names):
        assert data.topics[name].end_offsets == {0: index + 1, 1: index + 2}, name
    # latest: the first request and two more for the moving partition; earliest: one
    assert churn.offset_requests == 4


def test_a_leader_that_never_settles_fails_the_collect_naming_the_partition(
        topics: Topics) -> None:
    source = _source(topics.bootstrap, timeout=3)
    name = topics.names[2]
    source.admin = _Churn(source.admin, moving={(name, 0): 1000})  # type: ignore[assignment]
    began = time.monotonic()
    with pytest.raises(SourceError, match=rf"listing offsets of {name} partition 0 \(its "
                                          r"leader was still moving after 3 s\) failed"):
        source.describe()
    assert time.monotonic() - began < 10


@pytest.mark.parametrize("when", ["configs", "offsets"])
def test_a_topic_deleted_during_the_collect_is_left_out(topics: Topics, when: str) -> None:
    doomed = f"to-doomed-{uuid.uuid4().hex[:6]}"
    _create(topics.admin, [doomed], 2)
    deadline = time.monotonic() + 30
    while doomed not in topics.admin.list_topics(timeout=10).topics:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    source = _source(topics.bootstrap, timeout=3)
    source.admin = _Churn(source.admin, delete_before=(when, doomed))  # type: ignore[assignment]
    data = source.describe()
    assert doomed not in data.topics
    for index, name in enumerate(topics.names):
        assert data.topics[name].end_offsets == {0: index + 1, 1: index + 2}, name


def test_a_partition_librdkafka_no_longer_knows_is_a_deleted_topic_at_the_deadline(
        topics: Topics) -> None:
    """librdkafka answers _UNKNOWN_PARTITION from its own metadata once it has seen a topic
    deleted; at the deadline that topic is left out, as one the broker calls unknown is."""
    source = _source(topics.bootstrap, timeout=3)
    gone = topics.names[3]
    source.admin = _Churn(source.admin, moving={(gone, 1): 1000},  # type: ignore[assignment]
                          answer=KafkaError._UNKNOWN_PARTITION)
    data = source.describe()
    assert gone not in data.topics
    assert data.topics[topics.names[0]].end_offsets == {0: 1, 1: 2}
