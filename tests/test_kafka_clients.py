"""`commit_offsets`, the stack tests' commit, retries a settling coordinator and nothing else.

A fake consumer stands in for the broker here: COORDINATOR_LOAD_IN_PROGRESS comes from a
broker loading its offsets partition in the first seconds after a start, which cannot be
caused on demand (CI met it once, in stop 36). The commit's real path runs in every stack
test that reads.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from tests.stack.kafka_clients import commit_offsets


class _Answers:
    """A consumer whose commits raise the given errors in turn, then succeed."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.calls = 0
        self.offsets: list[Any] = []

    def commit(self, asynchronous: bool = True, offsets: Any = None) -> Any:
        assert asynchronous is False
        self.calls += 1
        self.offsets.append(offsets)
        if self.codes:
            raise KafkaException(KafkaError(self.codes.pop(0)))
        return None


def test_a_loading_coordinator_is_waited_for() -> None:
    consumer = _Answers(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_COORDINATOR,
                        KafkaError.COORDINATOR_NOT_AVAILABLE)
    offsets = [TopicPartition("orders", 0, 42)]
    commit_offsets(cast(Consumer, consumer), offsets, timeout_s=10)
    assert consumer.calls == 4
    assert consumer.offsets == [offsets] * 4  # the same offsets at every try


def test_other_errors_are_raised_at_once() -> None:
    consumer = _Answers(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(KafkaException) as raised:
        commit_offsets(cast(Consumer, consumer), timeout_s=10)
    assert raised.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert consumer.calls == 1


def test_a_coordinator_that_never_settles_fails_after_the_timeout() -> None:
    consumer = _Answers(*[KafkaError.COORDINATOR_LOAD_IN_PROGRESS] * 100)
    with pytest.raises(KafkaException) as raised:
        commit_offsets(cast(Consumer, consumer), timeout_s=0.5)
    assert raised.value.args[0].code() == KafkaError.COORDINATOR_LOAD_IN_PROGRESS
    assert 2 <= consumer.calls < 10
