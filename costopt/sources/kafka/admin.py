"""The Kafka Admin API side of a collect (confluent-kafka): topic configs, partitions and
replication, brokers and racks, consumer groups with committed and log-end offsets, and a
bounded record sampler for compression estimates.

Nothing here writes to the cluster: the sampler's consumer uses a throwaway group id, never
commits, and is closed at once.
"""

from __future__ import annotations

import importlib
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, ConfigResource, OffsetSpec

from costopt.config import ClusterSettings
from costopt.sources.source_errors import AccessDenied, SourceError, SourceUnavailable

TOPIC_CONFIGS = ("retention.ms", "retention.bytes", "cleanup.policy", "compression.type",
                 "min.insync.replicas", "segment.bytes", "remote.storage.enable",
                 "local.retention.ms", "local.retention.bytes")
CONFIG_BATCH = 200
CONFIG_BATCHES_IN_FLIGHT = 10  # config requests sent before their answers are awaited
# Group-offset requests sent before their answers are awaited: enough to hide the round trip,
# few enough that the last of a batch is answered well within admin_timeout_seconds.
GROUP_OFFSETS_IN_FLIGHT = 500
# What the broker (or librdkafka, from its metadata) answers about a topic it does not know:
# too new, or deleted since the collect's metadata. Asked again; still so at the deadline,
# the topic was deleted and is left out.
UNKNOWN_TOPIC = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC,
                           KafkaError._UNKNOWN_PARTITION})
# What a broker answers about a partition whose leader is moving: asked again.
LEADER_MOVING = frozenset({KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                           KafkaError.OFFSET_NOT_AVAILABLE, KafkaError.REPLICA_NOT_AVAILABLE,
                           KafkaError.FENCED_LEADER_EPOCH, KafkaError.UNKNOWN_LEADER_EPOCH,
                           *UNKNOWN_TOPIC})
# What a broker answers while a group's coordinator moves or loads its state: asked again.
COORDINATOR_MOVING = frozenset({KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                                KafkaError.COORDINATOR_NOT_AVAILABLE,
                                KafkaError.NOT_COORDINATOR})
# Broker settings pricing needs: whether tiered storage runs (KIP-405), and whether consumers
# may fetch from a follower in their zone (KIP-392; unset means leaders only, kept as "").
BROKER_CONFIGS = ("remote.log.storage.system.enable", "replica.selector.class")
UNSET_MEANS_EMPTY = ("replica.selector.class",)


@dataclass(frozen=True)
class AdminTopic:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    end_offsets: dict[int, int] = field(default_factory=dict)
    start_offsets: dict[int, int] = field(default_factory=dict)
    leaders: tuple[int, ...] = ()  # leader broker of each partition (-1: none)

    @property
    def end_offset_sum(self) -> int:
        return sum(self.end_offsets.values())


@dataclass(frozen=True)
class AdminGroup:
    group: str
    state: str
    members: int
    committed: dict[tuple[str, int], int]  # (topic, partition) -> committed offset


@dataclass(frozen=True)
class AdminBroker:
    broker_id: int
    host: str
    rack: str | None


@dataclass(frozen=True)
class AdminData:
    brokers: list[AdminBroker]
    topics: dict[str, AdminTopic]
    groups: list[AdminGroup]
    broker_configs: dict[str, str] = field(default_factory=dict)  # BROKER_CONFIGS, one broker


def client_config(cluster: ClusterSettings) -> dict[str, Any]:
    """librdkafka settings from costopt's config; secrets are handed over, never logged."""
    if cluster.bootstrap_servers is None:
        raise SourceError(f"cluster {cluster.name}: no bootstrap_servers configured")
    security = cluster.security
    config: dict[str, Any] = {
        "bootstrap.servers": cluster.bootstrap_servers,
        "security.protocol": security.protocol,
        "socket.timeout.ms": int(cluster.admin_timeout_seconds * 1000),
        "client.id": "costopt",
        "log_level": 3,
    }
    if security.sasl_mechanism:
        config["sasl.mechanism"] = security.sasl_mechanism
    if security.sasl_username:
        config["sasl.username"] = security.sasl_username
    if security.sasl_password is not None:
        config["sasl.password"] = security.sasl_password.get_secret_value()
    if security.ssl_key_password is not None:
        config["ssl.key.password"] = security.ssl_key_password.get_secret_value()
    files = {"ssl.ca.location": security.ssl_ca_location,
             "ssl.certificate.location": security.ssl_certificate_location,
             "ssl.key.location": security.ssl_key_location}
    config.update({option: value for option, value in files.items() if value})
    if security.sasl_mechanism == "OAUTHBEARER":
        if security.oauthbearer_config:
            config["sasl.oauthbearer.config"] = security.oauthbearer_config
        config["oauth_cb"] = _token_provider(cluster)
    return config


def _token_provider(cluster: ClusterSettings) -> Callable[[str], tuple[str, float]]:
    """The configured `module:function` as librdkafka's `oauth_cb`: called with
    `oauthbearer_config`, it returns (token, expiry in Unix seconds). For MSK IAM the function
    wraps `aws-msk-iam-sasl-signer-python` (docs/collection.md)."""
    name = cluster.security.oauthbearer_token_provider
    assert name is not None  # the config requires it with OAUTHBEARER
    module_name, _, function_name = name.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise SourceError(f"Kafka cluster {cluster.name}: oauthbearer_token_provider {name} "
                          f"cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not callable(function):
        raise SourceError(f"Kafka cluster {cluster.name}: oauthbearer_token_provider {name} "
                          "is not callable")

    def provide(oauthbearer_config: str) -> tuple[str, float]:
        token, expiry_seconds = function(oauthbearer_config)
        return str(token), float(expiry_seconds)

    return provide


# librdkafka's words for a refusal that retrying will not cure, by error code; a broker that
# wants a client certificate and gets none closes the TLS session with an alert, which
# librdkafka reports as a transport error.
_REFUSALS = {KafkaError._AUTHENTICATION: "authentication failed",
             KafkaError._SSL: "TLS handshake failed (is ssl_ca_location the CA that signed the "
                              "brokers' certificates?)"}
_CERTIFICATE_ALERT = re.compile(r"alert (bad certificate|certificate required|"
                                r"unknown ca|handshake failure)", re.IGNORECASE)


class Patience:
    """How long to keep asking again what a cluster in motion could not answer yet: a
    back-off growing from 0.2 s to 2 s, until `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.pause = 0.2

    def wait(self) -> bool:
        """Sleep before the next try; False, at once, if it would end past the deadline."""
        if time.monotonic() + self.pause > self.deadline:
            return False
        time.sleep(self.pause)
        self.pause = min(self.pause * 2, 2.0)
        return True


def error_code(exc: KafkaException) -> int | None:
    """The Kafka error code a KafkaException carries, if any."""
    error = exc.args[0] if exc.args else None
    return error.code() if isinstance(error, KafkaError) else None


class KafkaAdminSource:
    def __init__(self, cluster: ClusterSettings) -> None:
        self.cluster = cluster
        self.timeout = cluster.admin_timeout_seconds
        self.errors: list[KafkaError] = []  # what librdkafka reported, served by poll()
        self.config = {**client_config(cluster), "error_cb": self.errors.append}
        try:
            self.admin = AdminClient(self.config)
        except KafkaException as exc:  # e.g. a certificate or key file that cannot be read
            raise self._fail("setting up the client", exc) from None

    def _fail(self, what: str, exc: BaseException) -> SourceError:
        error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
        code = error.code() if isinstance(error, KafkaError) else None
        text = error.str() if isinstance(error, KafkaError) else str(exc)
        unreachable = code in (KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
                               KafkaError._ALL_BROKERS_DOWN) or isinstance(exc, TimeoutError)
        kind = SourceUnavailable if unreachable else SourceError
        return kind(f"Kafka cluster {self.cluster.name} ({self.cluster.bootstrap_servers}): "
                    f"{what} failed: {text}")

    def _refusal(self) -> AccessDenied | None:
        """A refusal librdkafka has reported so far (wrong password or API key, untrusted
        broker certificate, client certificate refused), as the error to raise."""
        self.admin.poll(0)
        for error in self.errors:
            cause = _REFUSALS.get(error.code())
            if cause is None and _CERTIFICATE_ALERT.search(error.str()):
                cause = "the broker refused the TLS session (client certificate missing or " \
                        "not trusted: ssl_certificate_location, ssl_key_location)"
            if cause is not None:
                return AccessDenied(f"Kafka cluster {self.cluster.name} "
                                    f"({self.cluster.bootstrap_servers}): {cause}: "
                                    f"{error.str()}")
        return None

    def _metadata(self) -> Any:
        """The cluster's metadata. A refusal fails at once with its cause: librdkafka would
        retry it until the timeout and then report only a transport failure. So the request
        is made in growing slices of the timeout, and what the client reported is read
        between them."""
        deadline = time.monotonic() + self.timeout
        slice_seconds = 1.0
        while True:
            remaining = deadline - time.monotonic()
            try:
                return self.admin.list_topics(timeout=max(0.1, min(slice_seconds, remaining)))
            except KafkaException as exc:
                refusal = self._refusal()
                if refusal is not None:
                    raise refusal from None
                if time.monotonic() >= deadline:
                    raise self._fail("listing topics", exc) from None
            slice_seconds *= 2

    def describe(self) -> AdminData:
        metadata = self._metadata()
        if not metadata.brokers:
            raise SourceUnavailable(f"Kafka cluster {self.cluster.name} "
                                    f"({self.cluster.bootstrap_servers}) returned no brokers")
        brokers = self._brokers(metadata)
        topics = {}
        for name, topic in metadata.topics.items():
            if topic.error is not None:
                continue
            partitions = topic.partitions
            replication = max((len(p.replicas) for p in partitions.values()), default=0)
            leaders = tuple(partitions[p].leader if p in partitions else -1
                            for p in range(len(partitions)))
            topics[name] = AdminTopic(name, len(partitions), replication, {}, leaders=leaders)
        # A topic deleted after the metadata was read has no configs or offsets: left out,
        # as the next collect's metadata will leave it out.
        configs = self._configs(list(topics), skip_missing=True)
        end_offsets, start_offsets = self._offsets(
            (name, p) for name, t in topics.items() if name in configs
            for p in range(t.partitions))
        topics = {name: AdminTopic(name, t.partitions, t.replication_factor,
                                   configs[name], end_offsets[name],
                                   start_offsets.get(name, {}), t.leaders)
                  for name, t in topics.items()
                  if name in configs and len(end_offsets.get(name, {})) == t.partitions}
        return AdminData(brokers, topics, self._groups(), self._broker_configs(brokers))

    def _broker_configs(self, brokers: list[AdminBroker]) -> dict[str, str]:
        """BROKER_CONFIGS of the first broker (brokers of a cluster are configured alike: a
        rolling change passes); optional (managed services may refuse it). A setting in
        UNSET_MEANS_EMPTY that is not set comes back as "": read, and off."""
        if not brokers:
            return {}
        resource = ConfigResource(ConfigResource.Type.BROKER, str(brokers[0].broker_id))
        try:
            futures = self.admin.describe_configs([resource], request_timeout=self.timeout)
            entries = next(iter(futures.values())).result(timeout=self.timeout)
        except (KafkaException, StopIteration):
            return {}
        values = {key: entries[key].value for key in BROKER_CONFIGS
                  if key in entries and entries[key].value is not None}
        for key in UNSET_MEANS_EMPTY:
            values.setdefault(key, "")
        return values

    def _brokers(self, metadata: Any) -> list[AdminBroker]:
        racks: dict[int, str | None] = {}
        try:
            described = self.admin.describe_cluster(request_timeout=self.timeout).result(
                timeout=self.timeout)
            racks = {node.id: node.rack for node in described.nodes}
        except KafkaException:
            pass  # racks are optional: costing then assumes one zone per broker set
        return [AdminBroker(b.id, f"{b.host}:{b.port}", racks.get(b.id))
                for b in sorted(metadata.brokers.values(), key=lambda b: b.id)]

    def topic_configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        """TOPIC_CONFIGS of each named topic as the brokers report them now; a topic that
        does not exist (any more) is left out."""
        return self._configs(names, skip_missing=True)

    def _configs(self, names: list[str], skip_missing: bool = False
                 ) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        batches = [names[start:start + CONFIG_BATCH]
                   for start in range(0, len(names), CONFIG_BATCH)]
        for first in range(0, len(batches), CONFIG_BATCHES_IN_FLIGHT):
            # Sent before any answer is awaited: the broker answers one batch at a time,
            # so waiting for each before sending the next leaves it idle a round trip.
            asked = [self.admin.describe_configs(
                [ConfigResource(ConfigResource.Type.TOPIC, name) for name in batch],
                request_timeout=self.timeout)
                for batch in batches[first:first + CONFIG_BATCHES_IN_FLIGHT]]
            for futures in asked:
                for resource, future in futures.items():
                    try:
                        entries = future.result(timeout=self.timeout)
                    except KafkaException as exc:
                        if skip_missing and error_code(exc) == KafkaError.UNKNOWN_TOPIC_OR_PART:
                            continue
                        raise self._fail(f"describing configs of {resource.name!r}",
                                         exc) from None
                    out[resource.name] = {key: entries[key].value for key in TOPIC_CONFIGS
                                          if key in entries and entries[key].value is not None}
        return out

    def _offsets(self, partitions: Iterable[tuple[str, int]]
                 ) -> tuple[dict[str, dict[int, int]], dict[str, dict[int, int]]]:
        """Latest and earliest offsets of the partitions, by topic; the earliest only of the
        partitions whose latest offset was read."""
        latest = self._offsets_at(OffsetSpec.latest(), list(partitions))
        earliest = self._offsets_at(OffsetSpec.earliest(), [
            (topic, p) for topic, offsets in latest.items() for p in offsets])
        return latest, earliest

    def _offsets_at(self, spec: OffsetSpec, pending: list[tuple[str, int]]
                    ) -> dict[str, dict[int, int]]:
        """The partitions' offsets at `spec`, by topic. A partition whose leader is moving (a
        broker restarting, a topic just created) is asked again until
        `admin_timeout_seconds`, as Kafka's own AdminClient does; a topic still unknown then
        was deleted meanwhile and is left out. Anything else fails the collect."""
        result: dict[str, dict[int, int]] = {}
        patience = Patience(self.timeout)
        while pending:
            request = {TopicPartition(topic, p): spec for topic, p in pending}
            futures = self.admin.list_offsets(request, request_timeout=self.timeout)
            moving: dict[tuple[str, int], KafkaException] = {}
            for tp, future in futures.items():
                try:
                    info = future.result(timeout=self.timeout)
                except KafkaException as exc:
                    if error_code(exc) in LEADER_MOVING:
                        moving[(tp.topic, tp.partition)] = exc
                        continue
                    raise self._fail(f"listing offsets of {tp.topic}", exc) from None
                result.setdefault(tp.topic, {})[tp.partition] = info.offset
            pending = list(moving)
            if pending and not patience.wait():
                stuck = {key: exc for key, exc in moving.items()
                         if error_code(exc) not in UNKNOWN_TOPIC}
                if stuck:
                    (topic, partition), last = next(iter(stuck.items()))
                    raise self._fail(f"listing offsets of {topic} partition {partition} (its "
                                     f"leader was still moving after {self.timeout:g} s)",
                                     last) from None
                break  # deleted since the metadata was read: left out
        return result

    def _groups(self) -> list[AdminGroup]:
        """Every consumer group with its state, members and committed offsets.

        A group whose coordinator is moving (a broker restarting: COORDINATOR_LOAD_IN_PROGRESS,
        NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) is asked again after a back-off, as Kafka's
        own AdminClient does and librdkafka's does not, until `admin_timeout_seconds`: a
        rolling restart must not cost the whole cluster's collect. Any other error fails it."""
        ids = self._group_ids()
        found: dict[str, AdminGroup] = {}
        pending = ids
        patience = Patience(self.timeout)
        while pending:
            settling: dict[str, tuple[str, KafkaException]] = {}
            for group in self._ask_groups(pending, settling):
                found[group.group] = group
            pending = list(settling)
            if pending and not patience.wait():
                group_id, (what, last) = next(iter(settling.items()))
                raise self._fail(f"{what} {group_id!r} (its coordinator was still moving after "
                                 f"{self.timeout:g} s)", last) from None
        return [found[group_id] for group_id in ids]

    def _group_ids(self) -> list[str]:
        """Every group's id. Each broker lists the groups it coordinates; a listing where some
        broker did not answer (restarting, unreachable) lacks that broker's groups, so it is
        asked again until `admin_timeout_seconds`, then the collect fails: a snapshot that
        silently lost a broker's groups would show their readers gone."""
        patience = Patience(self.timeout)
        while True:
            try:
                listing = self.admin.list_consumer_groups(request_timeout=self.timeout).result(
                    timeout=self.timeout)
            except KafkaException as exc:
                raise self._fail("listing consumer groups", exc) from None
            if not listing.errors:
                return [g.group_id for g in listing.valid]
            if not patience.wait():
                error = listing.errors[0]
                failure = error if isinstance(error, KafkaException) else KafkaException(error)
                missing = len(listing.errors)
                raise self._fail(f"listing consumer groups ({missing} broker"
                                 f"{'s' if missing > 1 else ''} still not answering after "
                                 f"{self.timeout:g} s)", failure)

    def _ask_groups(self, ids: list[str], settling: dict[str, tuple[str, KafkaException]]
                    ) -> Iterator[AdminGroup]:
        """The groups of `ids` that answered; each one whose coordinator is moving goes into
        `settling` with what failed, to be asked again."""
        if not ids:
            return
        described = self.admin.describe_consumer_groups(ids, request_timeout=self.timeout)
        for start in range(0, len(ids), GROUP_OFFSETS_IN_FLIGHT):
            batch = ids[start:start + GROUP_OFFSETS_IN_FLIGHT]
            # The Admin API lists one group's offsets per request: send a batch of requests
            # before awaiting any, so a fleet's 10,000 groups cost a few round trips, not
            # 10,000 (docs/collection.md).
            asked = {group_id: self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout)
                for group_id in batch}
            for group_id in batch:
                what = "describing group"
                try:
                    description = described[group_id].result(timeout=self.timeout)
                    what = "listing offsets of group"
                    committed: dict[tuple[str, int], int] = {}
                    for future in asked[group_id].values():
                        for tp in future.result(timeout=self.timeout).topic_partitions:
                            if tp.offset >= 0:
                                committed[(tp.topic, tp.partition)] = tp.offset
                except KafkaException as exc:
                    if error_code(exc) in COORDINATOR_MOVING:
                        settling[group_id] = (what, exc)
                        continue
                    raise self._fail(f"{what} {group_id!r}", exc) from None
                state = getattr(description.state, "name", str(description.state))
                yield AdminGroup(group_id, state.title().replace("_", ""),
                                 len(description.members), committed)

    def sample(self, topics: Iterable[AdminTopic], per_topic: int,
               timeout_seconds: float = 10.0) -> dict[str, list[bytes]]:
        """Up to `per_topic` of the newest records of each topic, read by a consumer that never
        commits. Bounded in records and time; empty topics give nothing."""
        if per_topic <= 0:
            return {}
        config = {**self.config, "group.id": f"costopt-sampler-{uuid.uuid4().hex}",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "auto.offset.reset": "latest"}
        samples: dict[str, list[bytes]] = {}
        consumer = Consumer(config)
        try:
            for topic in topics:
                records = self._sample_topic(consumer, topic, per_topic, timeout_seconds)
                if records:
                    samples[topic.name] = records
        finally:
            consumer.close()
        return samples

    def _sample_topic(self, consumer: Consumer, topic: AdminTopic, per_topic: int,
                      timeout_seconds: float) -> list[bytes]:
        available = {p: topic.end_offsets.get(p, 0) - topic.start_offsets.get(p, 0)
                     for p in range(topic.partitions)}
        live = [p for p, n in available.items() if n > 0]
        if not live:
            return []
        share = max(1, per_topic // len(live))
        assignment = [TopicPartition(topic.name, p,
                                     max(topic.start_offsets.get(p, 0),
                                         topic.end_offsets[p] - share)) for p in live]
        consumer.assign(assignment)
        records: list[bytes] = []
        deadline = time.monotonic() + timeout_seconds
        wanted = min(per_topic, sum(min(share, available[p]) for p in live))
        while len(records) < wanted and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=min(500, wanted - len(records)),
                                            timeout=1.0):
                value = message.value()
                if message.error() is None and value is not None:
                    records.append(value)
        consumer.unassign()
        return records[:per_topic]
