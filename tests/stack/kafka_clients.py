"""Client steps the tests take against the stack's brokers, made to survive a broker that
is still settling.

A group's first commit on a freshly started broker can meet COORDINATOR_LOAD_IN_PROGRESS
(or NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) while the offsets topic's partition is being
loaded. These errors are transient: Kafka's Java clients retry them; librdkafka's synchronous
`commit` raises them and does not mark them retriable, so they are named (as the collect
names them: `COORDINATOR_MOVING`). A test whose
reader thread died on one measured nothing for that group and failed far from the cause
(CI stop 36), so the tests commit through `commit_offsets`.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from costopt.sources.kafka.admin import COORDINATOR_MOVING, Patience, error_code


def commit_offsets(consumer: Consumer, offsets: list[TopicPartition] | None = None,
                   timeout_s: float = 30.0) -> None:
    """Commit the consumer's positions (or the given `offsets`) synchronously, retrying while
    the coordinator settles (the collect's own back-off, up to `timeout_s`); any other error,
    or the last settling one, raises."""
    patience = Patience(timeout_s)
    while True:
        try:
            if offsets is None:
                consumer.commit(asynchronous=False)
            else:
                consumer.commit(offsets=offsets, asynchronous=False)
            return
        except KafkaException as failure:
            if error_code(failure) not in COORDINATOR_MOVING or not patience.wait():
                raise


def failed_future(code: int) -> Future[Any]:
    """An answer already failed with `code`, for a wrapper that injects a broker's error."""
    future: Future[Any] = Future()
    future.set_exception(KafkaException(KafkaError(code)))
    return future
