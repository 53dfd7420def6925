"""Three KRaft nodes in three zones, secured the ways users secure Kafka, on one machine.

Each node is broker and controller (a three-voter quorum), in its own rack (`az-a`, `az-b`,
`az-c`), with `default.replication.factor=3`, `min.insync.replicas=2` and the JMX exporter
agent. Listeners on every node, all on 127.0.0.1:

- `PLAINTEXT`: for tests that do not test security; also the inter-broker listener;
- `SASL_SSL`: SASL over TLS with SCRAM-SHA-512 (users stored at format time, KIP-900
  `--add-scram`) and OAUTHBEARER (the broker's unsecured JWS validator: tests only);
- `MTLS`: TLS with `ssl.client.auth=required` (a client certificate signed by the run's CA);
- `APIKEY`: SASL over TLS with PLAIN, the way Confluent Cloud takes an API key and secret.

The CA and certificates are made per run (`tests/stack/tls.py`). `restart()` restarts every
node, keeping the data, with `replica.selector.class` set to the rack-aware selector or not.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.stack.kafka_broker import KafkaBroker, ensure_jars
from tests.stack.processes import LOOPBACK, StartError, free_port
from tests.stack.tls import Pki

RACKS = ("az-a", "az-b", "az-c")
RACK_AWARE_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
# Three brokers beside Prometheus, PostgreSQL and the tests on a 2-core machine.
CLUSTER_HEAP = "-Xmx320m"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class NodeInfo:
    node_id: int
    rack: str
    jmx_exporter_target: str


class ClusterNode(KafkaBroker):
    """One of the cluster's nodes: the single broker's setup plus the secured listeners."""

    def __init__(self, workdir: Path, node_id: int, rack: str, cluster: KafkaCluster) -> None:
        super().__init__(workdir, node_id=node_id, rack=rack, heap=cluster.heap)
        self.cluster = cluster
        self.expected_brokers = len(RACKS)
        self.sasl_ssl_port = free_port()
        self.mtls_port = free_port()
        self.apikey_port = free_port()

    def listeners(self) -> dict[str, tuple[str, int]]:
        return {**super().listeners(),
                "SASL_SSL": ("SASL_SSL", self.sasl_ssl_port),
                "MTLS": ("SSL", self.mtls_port),
                "APIKEY": ("SASL_SSL", self.apikey_port)}

    def properties(self) -> dict[str, str]:
        cluster = self.cluster
        pki = cluster.pki
        properties = super().properties()
        del properties["controller.quorum.bootstrap.servers"]
        plain_users = "".join(f' user_{user.username}="{user.password}"'
                              for user in (cluster.plain,))
        properties.update({
            "controller.quorum.voters": cluster.voters,
            "num.partitions": "3",
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
            "offsets.topic.replication.factor": "3",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
            "share.coordinator.state.topic.replication.factor": "3",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(pki.server_keystore_path),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(pki.ca_path),
            "listener.name.mtls.ssl.client.auth": "required",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512,OAUTHBEARER",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config":
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
            "listener.name.apikey.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.apikey.plain.sasl.jaas.config":
                "org.apache.kafka.common.security.plain.PlainLoginModule required"
                f"{plain_users};",
        })
        if cluster.rack_aware_selector:
            properties["replica.selector.class"] = RACK_AWARE_SELECTOR
        return properties

    def format_arguments(self) -> list[str]:
        user = self.cluster.scram
        return ["--add-scram",
                f"SCRAM-SHA-512=[name={user.username},password={user.password}]"]

    def bootstrap(self, listener: str) -> str:
        return f"{LOOPBACK}:{self.listeners()[listener][1]}"


class KafkaCluster:
    """Three nodes, one per zone; see the module docstring."""

    def __init__(self, workdir: Path, pki: Pki, heap: str = CLUSTER_HEAP) -> None:
        self.workdir = workdir
        self.pki = pki
        self.heap = heap
        self.rack_aware_selector = False
        self.scram = Credentials("costopt", secrets.token_urlsafe(18))
        self.plain = Credentials("APIKEY" + secrets.token_hex(6).upper(),
                                 secrets.token_urlsafe(24))
        self.nodes = [ClusterNode(workdir / f"node-{index + 1}", index + 1, rack, self)
                      for index, rack in enumerate(RACKS)]
        self.voters = ",".join(f"{node.node_id}@{LOOPBACK}:{node.controller_port}"
                               for node in self.nodes)
        self.start_seconds: float | None = None

    def bootstrap(self, listener: str = "PLAINTEXT") -> str:
        """`host:port,...` of every node's listener: PLAINTEXT, SASL_SSL, MTLS or APIKEY."""
        return ",".join(node.bootstrap(listener) for node in self.nodes)

    @property
    def node_info(self) -> list[NodeInfo]:
        return [NodeInfo(node.node_id, node.rack, node.jmx_exporter_target)
                for node in self.nodes]

    @property
    def jmx_exporter_targets(self) -> list[str]:
        return [node.jmx_exporter_target for node in self.nodes]

    def start(self, timeout_s: float = 300.0) -> None:
        """Launch every node (a quorum needs its voters up together), then wait for each to
        see all three brokers. Fails with the log tail of the node that did not come up. The
        bound is generous: on a 2-core machine under a load of 30-50 a start took 125 s."""
        began = time.monotonic()
        ensure_jars()  # once, before the nodes look for it from their threads
        first_start = not self.nodes[0].data_dir.exists()
        try:
            if first_start:
                cluster_id = ClusterNode.random_cluster_id()
                with ThreadPoolExecutor(len(self.nodes)) as pool:
                    list(pool.map(lambda node: node.prepare(cluster_id), self.nodes))
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_ready(max(1.0, timeout_s - (time.monotonic() - began)))
        except (StartError, RuntimeError):
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began

    def stop(self) -> None:
        """All nodes at once: one by one, the last would wait for a quorum already gone."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))

    def kill(self) -> None:
        """SIGKILL every node: for a cluster whose data is thrown away next (no controlled
        shutdown to wait for)."""
        for node in self.nodes:
            node.kill()

    def restart(self, rack_aware_selector: bool | None = None) -> None:
        """Stop every node and start them again on the same data; with `rack_aware_selector`
        given, `replica.selector.class` is set (True) or left at Kafka's default (False)."""
        if rack_aware_selector is not None:
            self.rack_aware_selector = rack_aware_selector
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return all(node.running for node in self.nodes)
