"""Every group's committed offsets and state come back from the Admin API, in batches, and
through a coordinator that moves.

The Admin API lists one group's offsets per request, so the collect sends a batch of those
requests before awaiting any (`GROUP_OFFSETS_IN_FLIGHT`). Here the batch is made smaller than
the number of groups, so the answers of several batches, and a group with a live member among
the empty ones, must each land on their own group.

A group whose coordinator is moving (a broker restarting) is asked again until
`admin_timeout_seconds`, and so is a group listing that some broker did not answer. Those
faults are injected: the broker's answers pass through a wrapper that turns the first answers
for some groups into COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE,
and the first listings into ones with a broker's transport error. A real coordinator loads a
small offsets partition in milliseconds, and this stack has one broker, so neither can be
caused on demand; everything else here is the real broker's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, ListConsumerGroupsResult, NewTopic

from costopt.config import ClusterSettings
from costopt.sources.kafka import admin
from costopt.sources.kafka.admin import AdminGroup, KafkaAdminSource
from costopt.sources.source_errors import SourceError, SourceUnavailable
from tests.stack.kafka_clients import commit_offsets, failed_future
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
GROUPS = 12
PARTITIONS = 2


@dataclass
class Groups:
    bootstrap: str
    prefix: str
    expected: dict[str, dict[tuple[str, int], int]]  # the empty groups' committed offsets
    live: str  # a group with one member


@pytest.fixture(scope="module")
def groups(stack: Stack) -> Iterator[Groups]:
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
        yield Groups(bootstrap, f"go-{suffix}-", expected, live)
    finally:
        member.close()



class _MovingCoordinator:
    """The real AdminClient, but the first answers for the named groups are the given errors
    (a list per group, used up one answer at a time)."""

    def __init__(self, real: AdminClient, describe: dict[str, list[int]],
                 offsets: dict[str, list[int]], broken_listings: int = 0) -> None:
        self.real, self.describe, self.offsets = real, describe, offsets
        self.broken_listings = broken_listings  # listings a broker does not answer
        self.described: list[list[str]] = []  # the groups of each description asked
        self.listings = 0

    def list_consumer_groups(self, **options: Any) -> Future[Any]:
        self.listings += 1
        answer = self.real.list_consumer_groups(**options)
        if self.listings > self.broken_listings:
            return answer
        listing = answer.result()
        partial: Future[Any] = Future()  # as if the broker of the odd-numbered groups were down
        partial.set_result(ListConsumerGroupsResult(
            valid=[g for g in listing.valid if not g.group_id.endswith(("1", "3", "5"))],
            errors=[KafkaError(KafkaError._TRANSPORT)]))
        return partial

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def describe_consumer_groups(self, ids: list[str], **options: Any) -> dict[str, Any]:
        self.described.append([i for i in ids if i.startswith("go-")])
        # A copy: confluent-kafka settles the futures of the dict it returned, by group id.
        answers = dict(self.real.describe_consumer_groups(ids, **options))
        for group_id in ids:
            if self.describe.get(group_id):
                answers[group_id] = failed_future(self.describe[group_id].pop(0))
        return answers

    def list_consumer_group_offsets(self, requests: list[Any], **options: Any
                                    ) -> dict[str, Any]:
        answers: dict[str, Any] = self.real.list_consumer_group_offsets(requests, **options)
        group_id = requests[0].group_id
        if self.offsets.get(group_id):
            code = self.offsets[group_id].pop(0)
            return {key: failed_future(code) for key in answers}
        return answers


def _ours(found: list[AdminGroup], groups: Groups) -> dict[str, AdminGroup]:
    return {g.group: g for g in found if g.group.startswith(groups.prefix)}


def _assert_all_read(found: list[AdminGroup], groups: Groups) -> None:
    ours = _ours(found, groups)
    assert set(ours) == {*groups.expected, groups.live}
    for group, offsets in groups.expected.items():
        assert ours[group].committed == offsets, group
        assert (ours[group].state, ours[group].members) == ("Empty", 0), group
    assert (ours[groups.live].state, ours[groups.live].members) == ("Stable", 1)


def test_offsets_of_groups_in_several_batches_land_on_their_own_group(
        groups: Groups, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "GROUP_OFFSETS_IN_FLIGHT", 5)
    data = KafkaAdminSource(ClusterSettings(name="stack",
                                            bootstrap_servers=groups.bootstrap)).describe()
    _assert_all_read(data.groups, groups)


def test_groups_whose_coordinator_moves_are_asked_again(
        groups: Groups, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "GROUP_OFFSETS_IN_FLIGHT", 5)
    source = KafkaAdminSource(ClusterSettings(name="stack",
                                              bootstrap_servers=groups.bootstrap))
    three, seven = f"{groups.prefix}03", f"{groups.prefix}07"
    moving = _MovingCoordinator(
        source.admin, describe={three: [KafkaError.COORDINATOR_LOAD_IN_PROGRESS]},
        offsets={seven: [KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE]})
    source.admin = moving  # type: ignore[assignment]
    _assert_all_read(source.describe().groups, groups)
    # The first description asks every group; the second only the two that moved; the
    # third only the one whose offsets failed twice.
    assert [sorted(asked) for asked in moving.described[1:]] == [[three, seven], [seven]]
    assert len(moving.described[0]) == GROUPS + 1


def test_a_coordinator_that_never_settles_fails_the_collect_naming_the_group(
        groups: Groups) -> None:
    source = KafkaAdminSource(ClusterSettings(name="stack", bootstrap_servers=groups.bootstrap,
                                              admin_timeout_seconds=3))
    two = f"{groups.prefix}02"
    source.admin = _MovingCoordinator(  # type: ignore[assignment]
        source.admin, describe={},
        offsets={two: [KafkaError.COORDINATOR_LOAD_IN_PROGRESS] * 100})
    began = time.monotonic()
    with pytest.raises(SourceError, match=rf"listing offsets of group '{two}' \(its "
                                          r"coordinator was still moving after 3 s\)"):
        source.describe()
    assert time.monotonic() - began < 10


def test_any_other_group_error_fails_at_once(groups: Groups) -> None:
    source = KafkaAdminSource(ClusterSettings(name="stack",
                                              bootstrap_servers=groups.bootstrap))
    five = f"{groups.prefix}05"
    moving = _MovingCoordinator(source.admin,
                                describe={five: [KafkaError.GROUP_AUTHORIZATION_FAILED]},
                                offsets={})
    source.admin = moving  # type: ignore[assignment]
    with pytest.raises(SourceError, match=rf"describing group '{five}' failed"):
        source.describe()
    assert len(moving.described) == 1


def test_a_listing_a_broker_did_not_answer_is_asked_again(groups: Groups) -> None:
    source = KafkaAdminSource(ClusterSettings(name="stack",
                                              bootstrap_servers=groups.bootstrap))
    moving = _MovingCoordinator(source.admin, describe={}, offsets={}, broken_listings=2)
    source.admin = moving  # type: ignore[assignment]
    _assert_all_read(source.describe().groups, groups)
    assert moving.listings == 3


def test_a_broker_that_never_answers_the_listing_fails_the_collect(groups: Groups) -> None:
    source = KafkaAdminSource(ClusterSettings(name="stack", bootstrap_servers=groups.bootstrap,
                                              admin_timeout_seconds=3))
    moving = _MovingCoordinator(source.admin, describe={}, offsets={}, broken_listings=100)
    source.admin = moving  # type: ignore[assignment]
    with pytest.raises(SourceUnavailable, match=r"listing consumer groups \(1 broker still not "
                                                r"answering after 3 s\) failed"):
        source.describe()
    assert 2 <= moving.listings < 10
