"""Every group's committed offsets and state come back from the Admin API in batches.

The Admin API lists one group's offsets per request, so the collect sends a batch of those
requests before awaiting any (`GROUP_OFFSETS_IN_FLIGHT`). Here the batch is made smaller than
the number of groups, so the answers of several batches, and a group with a live member among
the empty ones, must each land on their own group.
"""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from costopt.config import ClusterSettings
from costopt.sources.kafka import admin
from costopt.sources.kafka.admin import KafkaAdminSource
from tests.stack.kafka_clients import commit_offsets
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
GROUPS = 12
PARTITIONS = 2


def test_offsets_of_groups_in_several_batches_land_on_their_own_group(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap = stack.kafka.bootstrap_servers
    suffix = uuid.uuid4().hex[:6]
    topic = f"go.offsets.{suffix}"
    creator = AdminClient({"bootstrap.servers": bootstrap})
    creator.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
    expected: dict[str, dict[tuple[str, int], int]] = {}
    for index in range(GROUPS):
        group = f"go-{suffix}-{index:02d}"
        offsets = {(topic, p): 100 * index + p + 1 for p in range(PARTITIONS)}
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                             "enable.auto.commit": False})
        try:
            commit_offsets(consumer, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        finally:
            consumer.close()
        expected[group] = offsets
    live = f"go-{suffix}-live"
    member = Consumer({"bootstrap.servers": bootstrap, "group.id": live,
                       "auto.offset.reset": "earliest"})
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 60
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.5)
        assert member.assignment(), "the live member was never assigned the topic"
        monkeypatch.setattr(admin, "GROUP_OFFSETS_IN_FLIGHT", 5)
        data = KafkaAdminSource(ClusterSettings(name="stack",
                                                bootstrap_servers=bootstrap)).describe()
    finally:
        member.close()
    ours = {g.group: g for g in data.groups if g.group.startswith(f"go-{suffix}-")}
    assert set(ours) == {*expected, live}
    for group, offsets in expected.items():
        assert ours[group].committed == offsets, group
        assert (ours[group].state, ours[group].members) == ("Empty", 0), group
    assert (ours[live].state, ours[live].members) == ("Stable", 1)
