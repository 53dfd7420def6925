"""Client steps the tests take against the stack's brokers, made to survive a broker that
is still settling.

A group's first commit on a freshly started broker can meet COORDINATOR_LOAD_IN_PROGRESS
(or NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) while the offsets topic's partition is being
loaded. These errors are transient: Kafka's Java clients retry them; librdkafka's synchronous
`commit` raises them and does not mark them retriable, so they are named here. A test whose
reader thread died on one measured nothing for that group and failed far from the cause
(CI stop 36), so the tests commit through `commit_offsets`.
"""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

# What a broker answers while a group's coordinator is moving or loading.
COORDINATOR_SETTLING = frozenset({
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
})


def commit_offsets(consumer: Consumer, offsets: list[TopicPartition] | None = None,
                   timeout_s: float = 30.0) -> None:
    """Commit the consumer's positions (or the given `offsets`) synchronously, retrying while
    the coordinator settles (short back-off, up to `timeout_s`); any other error, or the last
    settling one, raises."""
    deadline = time.monotonic() + timeout_s
    pause = 0.1
    while True:
        try:
            if offsets is None:
                consumer.commit(asynchronous=False)
            else:
                consumer.commit(offsets=offsets, asynchronous=False)
            return
        except KafkaException as failure:
            error = failure.args[0] if failure.args else None
            settling = isinstance(error, KafkaError) and error.code() in COORDINATOR_SETTLING
            if not settling or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
