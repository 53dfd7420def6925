"""costopt collects from the three-zone cluster the way a user's deployment connects: Kafka over
SASL_SSL with SCRAM-SHA-512, over mutual TLS, over OAUTHBEARER (a configured token provider)
and over SASL_SSL PLAIN (an API key and secret, as Confluent Cloud takes them); Prometheus over
TLS with the run's CA and basic auth, and behind a gateway that wants a bearer token and a
tenant header. Every wrong credential fails the collect with an error that names the cluster,
the endpoint and the cause, stores nothing, shows in `/v1/jobs` and `/readyz`, and carries no
secret.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from costopt.config import ClusterSettings, ScheduleSettings, Settings
from costopt.sources.collect import collect_cluster, window_end
from costopt.sources.source_errors import AccessDenied
from costopt.store import Store, sqlite_url
from tests.collect.api_view import api_view
from tests.stack.http_gateway import Answer, LoopbackGateway, Request
from tests.stack.kafka_clients import commit_offsets
from tests.stack.stack import ZONE_CLUSTER_LABEL, ZoneStack
from tests.zones import tokens

TOPIC = "secured-orders"
GROUP = "secured-readers"
RECORDS = 600
READ = 200
TENANT = "team-payments"


@pytest.fixture(scope="module")
def traffic(three_zone: ZoneStack) -> dict[str, Any]:
    """A three-partition RF 3 topic with records and a group that committed part of them,
    written over the loopback PLAINTEXT listener (what is tested is costopt's side)."""
    bootstrap = three_zone.kafka.bootstrap()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=3)])[TOPIC].result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for index in range(RECORDS):
        producer.produce(TOPIC, json.dumps({"order": index, "status": "PAID"}).encode())
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([TOPIC])
    read = 0
    deadline = time.monotonic() + 60
    while read < READ and time.monotonic() < deadline:
        read += sum(1 for m in consumer.consume(50, timeout=1) if m.error() is None)
    commit_offsets(consumer)
    consumer.close()
    assert read >= READ
    return {"read": read}


@pytest.fixture(scope="module")
def collectable(three_zone: ZoneStack, traffic: dict[str, Any]) -> dict[str, Any]:
    """`traffic`, once Prometheus holds the topic's samples at the end of a completed collect
    window (a collect reads the last whole minute): up to a minute of waiting, which the
    refusal tests placed before the collects in this module mostly absorb."""
    deadline = time.monotonic() + 150
    while True:
        end = window_end(datetime.now(UTC), 1)
        query = urllib.parse.urlencode({"query": f'kafka_log_log_size{{topic="{TOPIC}"}}',
                                        "time": f"{end.timestamp():.0f}"})
        answer = json.loads(three_zone.prometheus.request(f"/api/v1/query?{query}"))
        if answer["data"]["result"]:
            return traffic
        assert time.monotonic() < deadline, "Prometheus never held the topic's log size"
        time.sleep(1)


@dataclass
class Gateway:
    """A fake: a loopback gateway in front of the real secured Prometheus that admits a request
    only with `Authorization: Bearer <token>` and an `X-Scope-OrgID` header (401 otherwise, as
    Mimir and an auth proxy answer), and forwards it with the server's own basic auth. A fake
    because Prometheus's web config checks basic auth only: bearer tokens and tenant headers
    are checked by what runs in front of it, and no such server is installed here."""

    upstream: ZoneStack
    token: str
    seen: list[dict[str, str]] = field(default_factory=list)
    server: LoopbackGateway = field(init=False)

    def __post_init__(self) -> None:
        self.server = LoopbackGateway(self._forward).start()

    def _forward(self, request: Request) -> Answer:
        self.seen.append(dict(request.headers.items()))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Answer(401, b"invalid bearer token", "text/plain")
        if not request.headers.get("X-Scope-OrgID"):
            return Answer(401, b"no org id", "text/plain")
        try:
            return Answer(200, self.upstream.prometheus.request(
                request.path, method=request.method, body=request.body,
                content_type=request.headers.get("Content-Type")))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), "text/plain")

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def gateway(three_zone: ZoneStack) -> Iterator[Gateway]:
    running = Gateway(three_zone, token="bearer-SECRET-4c1d")
    yield running
    running.server.stop()


def _kafka_security(stack: ZoneStack, listener: str) -> tuple[str, dict[str, Any]]:
    kafka, pki = stack.kafka, stack.pki
    ca = str(pki.ca_path)
    securities: dict[str, dict[str, Any]] = {
        "SCRAM": {"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                  "sasl_username": kafka.scram.username, "sasl_password": kafka.scram.password,
                  "ssl_ca_location": ca},
        "mTLS": {"protocol": "SSL", "ssl_ca_location": ca,
                 "ssl_certificate_location": str(pki.client_cert_path),
                 "ssl_key_location": str(pki.client_key_path)},
        "OAUTHBEARER": {"protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER",
                        "oauthbearer_token_provider": "tests.zones.tokens:unsecured_token",
                        "oauthbearer_config": "principal=costopt-collector",
                        "ssl_ca_location": ca},
        "PLAIN": {"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                  "sasl_username": kafka.plain.username, "sasl_password": kafka.plain.password,
                  "ssl_ca_location": ca},
    }
    bootstrap = {"SCRAM": "SASL_SSL", "OAUTHBEARER": "SASL_SSL", "mTLS": "MTLS",
                 "PLAIN": "APIKEY"}[listener]
    return kafka.bootstrap(bootstrap), securities[listener]


def _basic_auth_prometheus(stack: ZoneStack, **changes: Any) -> dict[str, Any]:
    return {"url": stack.prometheus.url, "ca_file": str(stack.pki.ca_path),
            "basic_auth": {"username": stack.prometheus_user.username,
                           "password": stack.prometheus_user.password},
            "cluster_label_value": ZONE_CLUSTER_LABEL, "dialect": "jmx", **changes}


def _settings(bootstrap: str | None, security: dict[str, Any] | None,
              prometheus: dict[str, Any] | None) -> tuple[ClusterSettings, Settings]:
    cluster = ClusterSettings.model_validate({
        "name": "zones", "bootstrap_servers": bootstrap, "security": security or {},
        "prometheus": prometheus, "instance_type": "m5.large", "window_seconds": 60,
        "lookback_seconds": 600, "hourly_days": 1, "admin_timeout_seconds": 20,
        "sample_records_per_topic": 30})
    return cluster, Settings(clusters=[cluster],
                             schedule=ScheduleSettings(collect_every_minutes=1, history_days=1))


def _secrets(stack: ZoneStack) -> list[str]:
    """Every credential of the stack: passwords, the API secret, the client key's body."""
    key_body = stack.pki.client_key_path.read_text().splitlines()[1]
    return [stack.kafka.scram.password, stack.kafka.plain.password,
            stack.prometheus_user.password, key_body]


def _nothing_secret_stored(directory: Path, secrets: list[str]) -> None:
    """The store's files (database, journal) hold none of the secrets."""
    stored = b"".join(path.read_bytes() for path in directory.glob("costopt.db*"))
    assert stored
    for secret in secrets:
        assert secret.encode() not in stored


def _failed_visibly(cluster: ClusterSettings, settings: Settings, store: Store,
                    patterns: list[str], secret: str, caplog: pytest.LogCaptureFixture,
                    capfd: pytest.CaptureFixture[str]) -> str:
    """The collect fails with AccessDenied whose message holds every pattern, stores nothing,
    and `/v1/jobs` and `/readyz` say so; the secret shows nowhere."""
    capfd.readouterr()
    began = time.monotonic()
    with pytest.raises(AccessDenied) as failure:
        collect_cluster(cluster, store, settings, at=datetime.now(UTC))
    took = time.monotonic() - began
    message = str(failure.value)
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in {message!r}"
    assert store.snapshot_count() == 0
    job, checks = api_view(settings, store)
    assert job["status"] == "failed" and job["error"] == message
    assert checks[f"last_collect:{cluster.name}"] == f"failed: {message}"
    out, err = capfd.readouterr()
    for text in (message, repr(job), json.dumps(checks), caplog.text, out, err):
        assert secret not in text
    # A refusal fails at once, not after the admin timeout (20 s) of librdkafka's retries.
    assert took < cluster.admin_timeout_seconds
    return message


@pytest.mark.parametrize("case", ["SCRAM wrong password", "PLAIN wrong secret",
                                  "unknown CA", "mTLS without a client certificate"])
def test_a_refused_kafka_credential_fails_visibly(
        three_zone: ZoneStack, traffic: dict[str, Any], case: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    del traffic
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-SECRET-93ad"
    listener = {"SCRAM wrong password": "SCRAM", "PLAIN wrong secret": "PLAIN",
                "unknown CA": "SCRAM", "mTLS without a client certificate": "mTLS"}[case]
    bootstrap, security = _kafka_security(three_zone, listener)
    secret = three_zone.kafka.scram.password
    if case in ("SCRAM wrong password", "PLAIN wrong secret"):
        security["sasl_password"] = secret = wrong
        cause = "authentication failed"
    elif case == "unknown CA":
        security["ssl_ca_location"] = str(three_zone.pki.foreign_ca_path)
        cause = "TLS handshake failed"
    else:
        del security["ssl_certificate_location"], security["ssl_key_location"]
        secret = three_zone.pki.client_key_path.read_text().splitlines()[1]
        cause = "the broker refused the TLS session"
    cluster, settings = _settings(bootstrap, security, None)
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    _failed_visibly(cluster, settings, store, ["Kafka cluster zones", bootstrap, cause],
                    secret, caplog, capfd)


def _prometheus_only(prometheus: dict[str, Any]) -> tuple[ClusterSettings, Settings]:
    return _settings(None, None, prometheus)


@pytest.mark.parametrize("case", ["wrong basic-auth password", "no credentials", "unknown CA",
                                  "missing tenant header", "wrong bearer token"])
def test_a_refused_prometheus_credential_fails_visibly(
        three_zone: ZoneStack, gateway: Gateway, case: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-SECRET-6be0"
    secret = three_zone.prometheus_user.password
    through_gateway = {"url": gateway.url, "auth_header": f"Bearer {gateway.token}",
                       "headers": {"X-Scope-OrgID": TENANT},
                       "cluster_label_value": ZONE_CLUSTER_LABEL, "dialect": "jmx"}
    if case == "wrong basic-auth password":
        prometheus = _basic_auth_prometheus(
            three_zone, basic_auth={"username": "costopt", "password": wrong})
        secret, cause = wrong, "HTTP 401"
    elif case == "no credentials":
        prometheus = _basic_auth_prometheus(three_zone, basic_auth=None)
        cause = "HTTP 401"
    elif case == "unknown CA":
        prometheus = _basic_auth_prometheus(three_zone,
                                            ca_file=str(three_zone.pki.foreign_ca_path))
        cause = "TLS verification failed"
    elif case == "missing tenant header":
        prometheus = {**through_gateway, "headers": {}}
        secret, cause = gateway.token, "HTTP 401: no org id"
    else:
        prometheus = {**through_gateway, "auth_header": f"Bearer {wrong}"}
        secret, cause = wrong, "HTTP 401: invalid bearer token"
    cluster, settings = _prometheus_only(prometheus)
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    _failed_visibly(cluster, settings, store,
                    ["cluster zones", f"Prometheus at {prometheus['url']}", cause],
                    secret, caplog, capfd)


def test_the_gateway_really_checks(gateway: Gateway) -> None:
    """The fake gateway refuses what it should, so the tests above cannot pass by accident."""
    request = urllib.request.Request(f"{gateway.url}/api/v1/query?query=up",
                                     headers={"Authorization": f"Bearer {gateway.token}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    request.add_header("X-Scope-OrgID", TENANT)
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["status"] == "success"


# The collects that pass come last: the refusals above need no data, and run while the
# topic's first samples reach a completed collect window.
@pytest.mark.parametrize("listener", ["SCRAM", "mTLS", "OAUTHBEARER", "PLAIN"])
def test_collect_over_each_secured_listener(three_zone: ZoneStack, collectable: dict[str, Any],
                                            listener: str, tmp_path: Path) -> None:
    """Admin metadata, configs, offsets, groups and the record sampler all go through the
    secured listener; Prometheus is read over TLS with basic auth."""
    calls_before = len(tokens.calls)
    bootstrap, security = _kafka_security(three_zone, listener)
    cluster, settings = _settings(bootstrap, security, _basic_auth_prometheus(three_zone))
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    result = collect_cluster(cluster, store, settings, at=datetime.now(UTC))
    snapshot = store.latest_snapshot("zones").snapshot
    topic = next(t for t in snapshot.topics if t.name == TOPIC)
    assert (topic.partitions, topic.replication_factor, topic.min_insync_replicas) == (3, 3, 2)
    assert {broker.rack for broker in snapshot.brokers} == {"az-a", "az-b", "az-c"}
    group = next(g for g in snapshot.groups if g.group == GROUP and g.topic == TOPIC)
    assert group.committed_offset_sum == collectable["read"]
    sampled = store.samples("zones", TOPIC)
    assert 0 < len(sampled) <= 30 and all(b'"status": "PAID"' in r for r in sampled)
    assert result.dialect == "jmx"
    _nothing_secret_stored(tmp_path, _secrets(three_zone))
    if listener == "OAUTHBEARER":
        assert tokens.calls[calls_before:] and \
            set(tokens.calls[calls_before:]) == {"principal=costopt-collector"}


def test_collect_from_prometheus_with_basic_auth_a_bearer_token_and_a_tenant_header(
        three_zone: ZoneStack, collectable: dict[str, Any], gateway: Gateway,
        tmp_path: Path) -> None:
    """Basic auth and TLS: checked by Prometheus itself. The bearer token and the tenant header:
    checked by the gateway (see `Gateway`), which saw them on every request."""
    del collectable
    for name, prometheus in (
            ("basic", _basic_auth_prometheus(three_zone)),
            ("bearer", {"url": gateway.url, "auth_header": f"Bearer {gateway.token}",
                        "headers": {"X-Scope-OrgID": TENANT},
                        "cluster_label_value": ZONE_CLUSTER_LABEL, "dialect": "jmx"})):
        cluster, settings = _prometheus_only(prometheus)
        store = Store.open(sqlite_url(tmp_path / f"{name}.db"))
        seen_before = len(gateway.seen)
        collect_cluster(cluster, store, settings, at=datetime.now(UTC))
        topic = next(t for t in store.latest_snapshot("zones").snapshot.topics
                     if t.name == TOPIC)
        assert topic.log_size_bytes > 0
        stored = b"".join(path.read_bytes() for path in tmp_path.glob(f"{name}.db*"))
        for secret in (three_zone.prometheus_user.password, gateway.token, TENANT):
            assert secret.encode() not in stored
        if name == "bearer":
            sent = gateway.seen[seen_before:]
            assert sent and all(h["X-Scope-OrgID"] == TENANT for h in sent)
