"""The three-zone cluster is what the tests after it rely on: three brokers in three racks,
RF 3 by default, every secured listener answering, and a Prometheus that refuses strangers."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from tests.stack.stack import ZoneStack


def test_three_racks_rf3_secured_listeners_and_a_guarded_prometheus(
        three_zone: ZoneStack) -> None:
    kafka, pki = three_zone.kafka, three_zone.pki
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap()})
    admin.create_topics([NewTopic("smoke")])["smoke"].result(timeout=30)
    deadline = time.monotonic() + 30
    while not (topic := admin.list_topics("smoke", timeout=10).topics["smoke"]).partitions:
        assert time.monotonic() < deadline, "the topic's metadata never arrived"
        time.sleep(0.2)
    assert len(topic.partitions) == 3
    assert {len(partition.replicas) for partition in topic.partitions.values()} == {3}
    racks = {node.id: node.rack for node in
             admin.describe_cluster(include_authorized_operations=False).result(30).nodes}
    assert racks == {1: "az-a", 2: "az-b", 3: "az-c"}
    config = admin.describe_configs([ConfigResource("BROKER", "1")])
    [broker_config] = config.values()
    assert broker_config.result(timeout=30)["min.insync.replicas"].value == "2"

    tls = {"ssl.ca.location": str(pki.ca_path)}
    clients = {
        "SCRAM": {"bootstrap.servers": kafka.bootstrap("SASL_SSL"), **tls,
                  "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                  "sasl.username": kafka.scram.username, "sasl.password": kafka.scram.password},
        "mTLS": {"bootstrap.servers": kafka.bootstrap("MTLS"), **tls,
                 "security.protocol": "SSL",
                 "ssl.certificate.location": str(pki.client_cert_path),
                 "ssl.key.location": str(pki.client_key_path)},
        "PLAIN": {"bootstrap.servers": kafka.bootstrap("APIKEY"), **tls,
                  "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                  "sasl.username": kafka.plain.username, "sasl.password": kafka.plain.password},
    }
    for name, client in clients.items():
        seen = AdminClient(client).list_topics("smoke", timeout=20)
        assert sorted(seen.brokers) == [1, 2, 3], name

    # Prometheus: TLS from the run's CA, basic auth required, all three nodes scraped.
    context = ssl.create_default_context(cafile=str(pki.ca_path))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{three_zone.prometheus.url}/api/v1/targets", context=context)
    assert refused.value.code == 401
    targets = json.loads(three_zone.prometheus.request("/api/v1/targets"))
    scraped = {target["scrapeUrl"] for target in targets["data"]["activeTargets"]}
    assert scraped == {f"http://{node.jmx_exporter_target}/metrics"
                       for node in kafka.node_info}
