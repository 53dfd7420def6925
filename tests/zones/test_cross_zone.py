"""Cross-zone traffic measured on the three-zone cluster, checked against the truth the test
knows: what it produced and consumed per partition, which broker led each partition, and which
zone each consumer sat in.

Consumer groups each read their own RF 3 topic (3 partitions, leaders one per zone), from
zones az-a, az-b, az-c and az-a. Two phases, each a steady 60 s window of production and
consumption collected by costopt (`costopt.sources.collect.gather`) from the authenticated
Prometheus and the Admin API, with a restart of the brokers between them:

- A, selector off: groups g1..g4; g1 and g2 set `client.rack`, g3 and g4 do not; all read
  leaders (scenario "off");
- B, the brokers restarted with the rack-aware selector: g1..g4 now all set `client.rack`
  (scenario "all": nobody crosses), and beside them h1..h4 (same zones, their own topics)
  with only h1 and h2 setting it (scenario "half").

The truth of a consumer's cross-zone bytes is what it consumed from each partition in the
window × (the rack of the broker serving it ≠ its zone), the serving broker being the leader
(selector off, or no `client.rack`) or the replica in its zone; the brokers' own per-topic
bytes out, read from each broker's exporter, confirm which broker served. Where the truth is
zero, "within 10%" means within 10% of what those reads would cross from leaders.
The brokers are restarted with the selector off at the end, as the other tests expect, unless
no three-zone test is left to run (this module runs last of them: `tests/zones/conftest.py`).
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pytest
from confluent_kafka import Consumer, ElectionType, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from costopt.analyze.realized import realized_savings
from costopt.config import (
    BasicAuth,
    ClusterSettings,
    PrometheusSettings,
    ScheduleSettings,
    Settings,
)
from costopt.cost import formulas
from costopt.cost.allocation import allocate
from costopt.cost.cluster_model import ClusterModel
from costopt.prices.catalog import resolve_catalog
from costopt.rules.history import History
from costopt.rules.recommendation import Recommendation
from costopt.rules.registry import run_rules
from costopt.snapshot.cluster_snapshot import ClusterSnapshot
from costopt.sources.collect import gather
from costopt.sources.prometheus.client import PrometheusClient
from tests.stack.stack import ZONE_CLUSTER_LABEL, ZoneStack
from tests.zones.conftest import three_zone_tests_follow

# Long enough that a few seconds' jitter in a loaded machine's scrapes stays under 5%.
WINDOW_S = 60
RECORD_BYTES = 8192  # large records: the brokers' batch overhead stays under 1%
RECORDS_PER_SECOND = 8  # per topic: 64 KiB/s
ZONES = ("az-a", "az-b", "az-c", "az-a")
GROUP_ZONES = {f"{kind}{i + 1}": zone for kind in "gh" for i, zone in enumerate(ZONES)}
G = ("g1", "g2", "g3", "g4")
H = ("h1", "h2", "h3", "h4")
# Scenario -> (phase, the groups it looks at)
SCENARIOS = {"off": ("A", G), "all": ("B", G), "half": ("B", H)}
RULES = {"rack_aware_fetch": {"min_monthly_savings": 0.001}}
# Three phases of traffic and two restarts share one module fixture, paid by its first test.
pytestmark = pytest.mark.timeout(900)


@dataclass
class Truth:
    """What the test itself saw in the window, per topic."""

    produced: dict[str, int] = field(default_factory=dict)
    # (group, partition) -> bytes consumed
    consumed: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass
class Phase:
    name: str
    selector: bool
    rack_set: frozenset[str]
    snapshot: ClusterSnapshot
    model: ClusterModel
    recommendations: list[Recommendation]
    truth: Truth
    topics: dict[str, str]  # group -> its topic
    leaders: dict[str, dict[int, int]]  # topic -> partition -> leader broker id
    replicas: dict[str, dict[int, list[int]]]
    broker_out: dict[str, dict[int, float]]  # topic -> broker -> bytes out in the window
    replication_in_per_second: float  # ReplicationBytesInPerSec, all brokers, the window
    window_s: float
    log_sizes: dict[str, float]  # topic -> bytes over every replica, as the brokers report
    quiet: ClusterSnapshot  # collected after the traffic stopped, when the sizes were read


def _scrape(target: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    for attempt in range(3):  # a loaded machine's broker can be slow to answer its exporter
        try:
            text = urllib.request.urlopen(f"http://{target}/metrics",
                                          timeout=30).read().decode()
            break
        except OSError:
            if attempt == 2:
                raise
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return values


def _broker_counters(stack: ZoneStack, topics: list[str]) -> tuple[
        dict[str, dict[int, float]], float, dict[str, float]]:
    """Per topic and broker bytes out, all brokers' replication bytes in, and per topic the
    log sizes of every replica, straight from each broker's exporter."""
    out: dict[str, dict[int, float]] = {t: {} for t in topics}
    replication, sizes = 0.0, dict.fromkeys(topics, 0.0)
    for node in stack.kafka.node_info:
        values = _scrape(node.jmx_exporter_target)
        for (name, labels), value in values.items():
            label = dict(labels)
            if name == "kafka_server_brokertopicmetrics_bytesout_total" \
                    and label.get("topic") in out:
                out[label["topic"]][node.node_id] = value
            elif name == "kafka_server_brokertopicmetrics_replicationbytesin_total" \
                    and "topic" not in label:
                replication += value
            elif name == "kafka_log_log_size" and label.get("topic") in sizes:
                sizes[label["topic"]] += value
    return out, replication, sizes


def _produce(bootstrap: str, topics: list[str], stop: threading.Event, truth: Truth,
             window: list[float], backlog: list[int]) -> None:
    """Steady records to every topic; `backlog[0]` is how many wait to be acknowledged."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all",
                         "compression.type": "none", "enable.idempotence": True})
    payload = np.random.default_rng(1).bytes(RECORD_BYTES)
    sent = 0
    next_at = time.monotonic()

    def delivered(err: object, topic: str, sent_at: float) -> None:
        # Counted by when it was sent (the broker counts it on arrival), once acknowledged.
        if err is None and window[0] <= sent_at < window[1]:
            truth.produced[topic] = truth.produced.get(topic, 0) + RECORD_BYTES

    while not stop.is_set():
        sent_at = time.time()
        for topic in topics:
            producer.produce(topic, payload, partition=sent % 3,
                             on_delivery=lambda e, _m, t=topic, at=sent_at: delivered(e, t, at))
        sent += 1
        producer.poll(0)
        backlog[0] = len(producer)
        # Steady, never catching up in a burst: Prometheus's rates assume a steady counter.
        next_at = max(next_at + 1 / RECORDS_PER_SECOND, time.monotonic())
        stop.wait(next_at - time.monotonic())
    producer.flush(30)


def _consume(bootstrap: str, group: str, topic: str, rack: str | None,
             stop: threading.Event, truth: Truth, window: list[float], lock: threading.Lock,
             ready: threading.Event) -> None:
    config = {"bootstrap.servers": bootstrap, "group.id": group,
              "auto.offset.reset": "latest", "enable.auto.commit": True,
              "auto.commit.interval.ms": 1000, "fetch.wait.max.ms": 100}
    if rack is not None:
        config["client.rack"] = rack
    consumer = Consumer(config)
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            for message in consumer.consume(num_messages=100, timeout=0.5):
                if message.error() is not None:
                    continue
                ready.set()
                if window[0] <= time.time() < window[1]:
                    key = (group, message.partition())
                    with lock:
                        truth.consumed[key] = truth.consumed.get(key, 0) + len(
                            message.value() or b"")
    finally:
        consumer.close()


def _spread_leaders(admin: AdminClient, topics: list[str]) -> tuple[
        dict[str, dict[int, int]], dict[str, dict[int, list[int]]]]:
    """Leaders one per zone (preferred leaders, after a restart moved them)."""
    deadline = time.monotonic() + 60
    while True:
        metadata = admin.list_topics(timeout=10)
        leaders = {t: {p: m.leader for p, m in metadata.topics[t].partitions.items()}
                   for t in topics}
        replicas = {t: {p: list(m.replicas) for p, m in metadata.topics[t].partitions.items()}
                    for t in topics}
        if all(len(set(by_partition.values())) == 3 and -1 not in by_partition.values()
               for by_partition in leaders.values()):
            return leaders, replicas
        assert time.monotonic() < deadline, f"leaders never spread over the zones: {leaders}"
        # Already preferred, or an election in progress: look again.
        with contextlib.suppress(Exception):
            admin.elect_leaders(ElectionType.PREFERRED, [
                TopicPartition(t, p) for t in topics for p in range(3)]).result(timeout=30)
        time.sleep(1)


def _run_phase(stack: ZoneStack, name: str, topics: dict[str, str],
               rack_set: frozenset[str], cluster: ClusterSettings,
               settings: Settings) -> Phase:
    """`topics`: the groups that read in this phase, each to its topic."""
    bootstrap = stack.kafka.bootstrap()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    leaders, replicas = _spread_leaders(admin, list(topics.values()))
    truth, lock = Truth(), threading.Lock()
    window = [float("inf"), float("inf")]
    stop = threading.Event()
    readies = {g: threading.Event() for g in topics}
    backlog = [0]
    threads = [threading.Thread(target=_produce, args=(
        bootstrap, list(topics.values()), stop, truth, window, backlog))]
    threads += [threading.Thread(target=_consume, args=(
        bootstrap, group, topic, GROUP_ZONES[group] if group in rack_set else None, stop,
        truth, window, lock, readies[group])) for group, topic in topics.items()]
    for thread in threads:
        thread.start()
    try:
        for group, ready in readies.items():
            assert ready.wait(60), f"consumer {group} read nothing"
        # No backlog left from the start (or a restart) to drain into the window as a burst.
        deadline = time.monotonic() + 60
        while backlog[0] > 2 * len(topics) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # a scrape with every serving broker's meters, past the fetch switch
        out_before, _, _ = _broker_counters(stack, list(topics.values()))
        window[0] = time.time()
        window[1] = window[0] + WINDOW_S
        time.sleep(WINDOW_S)
        out_after, _, _ = _broker_counters(stack, list(topics.values()))
        time.sleep(6)  # Prometheus has scraped past the window's end
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    # Sizes with the traffic stopped, once Prometheus scraped them still: costopt's (from a
    # collect now) and the brokers' own, at one moment.
    time.sleep(6)
    _, _, sizes = _broker_counters(stack, list(topics.values()))
    quiet = gather(cluster, settings, datetime.now(UTC)).snapshot
    broker_out = {t: {b: out_after[t].get(b, 0.0) - out_before[t].get(b, 0.0)
                      for b in (1, 2, 3)} for t in topics.values()}
    taken_at = datetime.fromtimestamp(window[1], tz=UTC)
    snapshot = gather(cluster, settings, taken_at).snapshot
    # The brokers' own replication counters over costopt's window, through the same server.
    client = PrometheusClient(cluster.prometheus, cluster.name)  # type: ignore[arg-type]
    [replicated] = client.instant(
        f'sum(increase(kafka_server_brokertopicmetrics_replicationbytesin_total'
        f'{{cluster="{ZONE_CLUSTER_LABEL}",topic=""}}[{WINDOW_S}s])) / {WINDOW_S}', taken_at)
    catalog = resolve_catalog("aws-self-managed")
    cost = allocate(snapshot, catalog)
    model = ClusterModel(snapshot, catalog, cost, {}, {})
    recommendations = run_rules(model, History.empty(), RULES).recommendations
    return Phase(name, stack.kafka.rack_aware_selector, rack_set, snapshot, model,
                 recommendations, truth, topics, leaders, replicas, broker_out,
                 float(replicated["value"][1]), WINDOW_S, sizes, quiet)


@pytest.fixture(scope="module")
def phases(three_zone: ZoneStack, request: pytest.FixtureRequest) -> Iterator[dict[str, Phase]]:
    kafka = three_zone.kafka
    assert not kafka.rack_aware_selector, "the cluster should start with the selector off"
    suffix = uuid.uuid4().hex[:6]
    topics = {group: f"cz.{group}.{suffix}" for group in GROUP_ZONES}
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap()})
    for future in admin.create_topics([NewTopic(t, 3, 3) for t in topics.values()]).values():
        future.result(30)
    user = three_zone.prometheus_user
    cluster = ClusterSettings(
        name=ZONE_CLUSTER_LABEL, bootstrap_servers=kafka.bootstrap(),
        prometheus=PrometheusSettings(
            url=three_zone.prometheus.url, ca_file=str(three_zone.pki.ca_path),
            basic_auth=BasicAuth(username=user.username, password=SecretStr(user.password))),
        instance_type="m5.large", disk_capacity_bytes=100 * 2**30,
        window_seconds=WINDOW_S, lookback_seconds=30, hourly_days=1,
        sample_records_per_topic=0)
    settings = Settings(clusters=[cluster], schedule=ScheduleSettings(
        collect_every_minutes=1, history_days=1))
    result: dict[str, Phase] = {}
    try:
        result["A"] = _run_phase(three_zone, "A", {g: topics[g] for g in G},
                                 frozenset({"g1", "g2"}), cluster, settings)
        kafka.restart(rack_aware_selector=True)
        result["B"] = _run_phase(three_zone, "B", topics, frozenset({*G, "h1", "h2"}),
                                 cluster, settings)
        yield result
    finally:
        if kafka.rack_aware_selector and three_zone_tests_follow(request):
            kafka.restart(rack_aware_selector=False)


def _rack(broker: int) -> str:
    return {1: "az-a", 2: "az-b", 3: "az-c"}[broker]


def _serving_broker(phase: Phase, group: str, topic: str, partition: int) -> int:
    if phase.selector and group in phase.rack_set:
        [local] = [b for b in phase.replicas[topic][partition]
                   if _rack(b) == GROUP_ZONES[group]]
        return local
    return phase.leaders[topic][partition]


def _truth_cross_zone(phase: Phase, groups: tuple[str, ...]) -> tuple[float, float]:
    """Bytes/s the groups' reads crossed a zone, and what would have crossed from leaders."""
    crossed = from_leaders = 0.0
    for (group, partition), consumed in phase.truth.consumed.items():
        if group not in groups:
            continue
        topic = phase.topics[group]
        serving = _serving_broker(phase, group, topic, partition)
        crossed += consumed * (_rack(serving) != GROUP_ZONES[group])
        from_leaders += consumed * (_rack(phase.leaders[topic][partition])
                                    != GROUP_ZONES[group])
    return crossed / phase.window_s, from_leaders / phase.window_s


def _costopt_cross_zone(phase: Phase, groups: tuple[str, ...]) -> float:
    names = {phase.topics[g] for g in groups}
    basis = phase.model.cost.basis
    total = 0.0
    for topic in phase.snapshot.topics:
        if topic.name not in names:
            continue
        share = (topic.rack_aware_read_bytes_per_second or 0.0) / topic.bytes_out_per_second \
            if topic.bytes_out_per_second else 0.0
        total += float(formulas.consumer_cross_zone_bytes_per_second(
            topic.bytes_out_per_second, share, basis.consumer_cross_zone_share))
    return total


@pytest.mark.parametrize("name", ["A", "B"])
def test_the_brokers_served_whom_the_truth_says(phases: dict[str, Phase], name: str) -> None:
    """Check the truth's premise on the brokers' own counters: each topic's bytes out came
    from the brokers the test expects (leaders, or the replica in the reader's zone)."""
    phase = phases[name]
    for group, topic in phase.topics.items():
        expected = dict.fromkeys((1, 2, 3), 0.0)
        for (reader, partition), consumed in phase.truth.consumed.items():
            if reader == group:
                expected[_serving_broker(phase, group, topic, partition)] += consumed
        served = phase.broker_out[topic]
        # Shares, not bytes: the exporters' counters are read around the window, not in it.
        total, sent = sum(expected.values()), sum(served.values())
        assert total > 0 and sent > 0
        for broker in (1, 2, 3):
            assert abs(served[broker] / sent - expected[broker] / total) <= 0.05, (
                name, group, served, expected)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_consumer_cross_zone_bytes_within_10_percent_of_the_truth(
        phases: dict[str, Phase], scenario: str) -> None:
    name, groups = SCENARIOS[scenario]
    phase = phases[name]
    truth, from_leaders = _truth_cross_zone(phase, groups)
    measured = _costopt_cross_zone(phase, groups)
    reference = truth if truth > 0.1 * from_leaders else from_leaders
    error = abs(measured - truth) / reference
    print(f"selector {scenario}: consumer cross-zone costopt {measured:,.0f} B/s, truth "
          f"{truth:,.0f} B/s ({error:.1%} of {reference:,.0f})")
    assert error <= 0.10
    assert phase.snapshot.replica_selector == (
        "org.apache.kafka.common.replica.RackAwareReplicaSelector" if phase.selector else "")
    assert all(t.rack_aware_read_bytes_per_second is not None for t in phase.snapshot.topics
               if t.name in phase.topics.values()), "measured, not assumed"


def test_bytes_in_storage_and_replication_match_the_brokers(phases: dict[str, Phase]) -> None:
    for phase in phases.values():
        topics = {t.name: t for t in phase.snapshot.topics}
        for topic_name in phase.topics.values():
            topic = topics[topic_name]
            produced = phase.truth.produced[topic_name] / phase.window_s
            assert topic.replication_factor == 3
            assert abs(topic.bytes_in_per_second - produced) <= 0.05 * produced, (
                phase.name, topic_name, topic.bytes_in_per_second, produced)
            still = next(t for t in phase.quiet.topics if t.name == topic_name)
            stored = still.log_size_bytes * still.replication_factor
            reported = phase.log_sizes[topic_name]
            assert abs(stored - reported) <= 0.02 * reported, (topic_name, stored, reported)
        # Every topic's, as the brokers' counter counts every topic (__consumer_offsets too).
        replication = sum(float(formulas.replication_bytes_per_second(
            t.bytes_in_per_second, t.replication_factor)) for t in phase.snapshot.topics)
        brokers = phase.replication_in_per_second
        print(f"phase {phase.name}: replication costopt {replication:,.0f} B/s, brokers "
              f"{brokers:,.0f} B/s")
        assert abs(replication - brokers) <= 0.05 * brokers


def _rack_aware(phase: Phase) -> list[Recommendation]:
    return [r for r in phase.recommendations if r.kind == "rack_aware_fetch"]


def test_rack_aware_advice_names_the_groups_that_still_cross(
        phases: dict[str, Phase]) -> None:
    [off] = _rack_aware(phases["A"])
    assert off.target_type == "cluster"
    assert set(off.proposed["groups"]) == set(G)
    assert "replica.selector.class=" in off.change
    on = _rack_aware(phases["B"])
    assert {r.target for r in on} == {"h3", "h4"}  # g1..g4 and h1, h2 read in their zone
    assert all(r.target_type == "group" and "client.rack=" in r.change for r in on)
    assert any(e.value == "measured" for r in on for e in r.evidence)


def test_realized_saving_after_the_restart_is_within_15_percent_of_the_recommendation(
        phases: dict[str, Phase]) -> None:
    [recommended] = _rack_aware(phases["A"])
    realized = realized_savings(recommended.to_dict(), phases["A"].model,
                                phases["B"].snapshot)
    assert realized.applied and realized.realized is not None
    predicted = float(realized.predicted.amount)
    got = float(realized.realized.amount)
    print(f"rack-aware saving: recommended {predicted:.4f}, realized {got:.4f} USD/month")
    assert abs(got - predicted) <= 0.15 * predicted
