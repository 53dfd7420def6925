"""Reading a fleet's consumer groups from the Admin API on a real broker, as a collect does:
every group's state, members and committed offsets.

The Admin API lists one group's offsets per request. The collect sends
`GROUP_OFFSETS_IN_FLIGHT` of them before awaiting any; the baseline is the same code with one
request in flight, awaiting each answer before the next request (how collects read groups
before 2026-12-08). Over loopback the difference is the broker's and the client's per-request
overhead; over a network the baseline also waits a round trip per group, so this figure is the
least the batching gains.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench.figures import RUNS, figure, say
from costopt.config import ClusterSettings
from costopt.sources.kafka import admin
from costopt.sources.kafka.admin import AdminData, KafkaAdminSource, Patience
from tests.stack.kafka_broker import KafkaBroker

GROUPS = 2_000  # the wix bench fleet has about 10,000; 2,000 keep the part short
PARTITIONS = 3
TOPIC = "bench.groups"


def _commit_groups(client: AdminClient) -> dict[str, dict[tuple[str, int], int]]:
    """GROUPS groups, each with committed offsets of its own, written through the Admin API
    (pipelined; a group whose coordinator is still loading is written again)."""
    wanted = {f"bench-group-{i:05d}": {(TOPIC, p): 10 * i + p + 1 for p in range(PARTITIONS)}
              for i in range(GROUPS)}
    pending = list(wanted)
    patience = Patience(120)
    while pending:
        asked = {group: client.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(
            group, [TopicPartition(t, p, o) for (t, p), o in wanted[group].items()])],
            request_timeout=30) for group in pending}
        failed = []
        for group, futures in asked.items():
            for future in futures.values():
                try:
                    future.result(timeout=60)
                except KafkaException:
                    failed.append(group)
        if failed and not patience.wait():
            raise RuntimeError(f"{len(failed)} groups could not be written, e.g. {failed[0]}")
        pending = failed
    return wanted


def _read(source: KafkaAdminSource, in_flight: int) -> AdminData:
    kept = admin.GROUP_OFFSETS_IN_FLIGHT
    admin.GROUP_OFFSETS_IN_FLIGHT = in_flight
    try:
        return source.describe()
    finally:
        admin.GROUP_OFFSETS_IN_FLIGHT = kept


def bench_admin_groups(work: Path) -> None:
    say(f"admin: {GROUPS:,} consumer groups read from a real KRaft broker over loopback")
    broker = KafkaBroker(work / "kafka")
    broker.start()
    try:
        client = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        client.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(30)
        wanted = _commit_groups(client)
        source = KafkaAdminSource(ClusterSettings(name="bench",
                                                  bootstrap_servers=broker.bootstrap_servers))
        batched_in_flight = admin.GROUP_OFFSETS_IN_FLIGHT
        for in_flight in (batched_in_flight, 1):  # both read every group, alike
            read = {g.group: g.committed for g in _read(source, in_flight).groups}
            if read != wanted:
                raise RuntimeError(f"{in_flight} in flight read {len(read)} groups, "
                                   f"{sum(read.get(g) == o for g, o in wanted.items())} right")
        batched, one_by_one = [], []
        for _ in range(RUNS + 2):  # taken in turn, so the host's drift hits both alike
            started = time.perf_counter()
            _read(source, batched_in_flight)
            batched.append(time.perf_counter() - started)
            started = time.perf_counter()
            _read(source, 1)
            one_by_one.append(time.perf_counter() - started)
        del source, client  # closed before the broker stops, which they would log
    finally:
        broker.stop()
    value, baseline = statistics.median(batched), statistics.median(one_by_one)
    figure("collect_admin_groups_seconds", value, "s", baseline=baseline,
           baseline_name="one group-offset request in flight", target="report it", met=True,
           preset_name=f"{GROUPS} groups",
           note=f"describe() of a broker with {GROUPS:,} groups of {PARTITIONS} committed "
                f"partitions, {batched_in_flight} offset requests in flight; medians of "
                f"{RUNS + 2} runs taken in turn with the baseline; loopback, so a network's "
                "round trips would widen the gap")
