"""The whole test stack: one Kafka broker with the JMX agent and a Prometheus scraping it
(`Stack`); or three secured brokers in three zones and a Prometheus behind TLS and basic auth
(`ZoneStack`)."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from tests.stack.kafka_broker import KafkaBroker
from tests.stack.kafka_cluster import Credentials, KafkaCluster
from tests.stack.processes import StartError
from tests.stack.prometheus_server import PrometheusServer, WebSecurity
from tests.stack.tls import Pki, make_pki


@dataclass
class Stack:
    workdir: Path
    kafka: KafkaBroker = field(init=False)
    prometheus: PrometheusServer = field(init=False)

    def __post_init__(self) -> None:
        self.kafka = KafkaBroker(self.workdir / "kafka")
        self.prometheus = PrometheusServer(
            self.workdir / "prometheus", scrape_targets=[self.kafka.jmx_exporter_target]
        )

    started_at: float = field(init=False, default=0.0)

    def start(self) -> None:
        self.kafka.start()
        self.started_at = time.time()
        try:
            self.prometheus.start()
        except Exception:
            self.kafka.stop()
            raise

    def stop(self) -> None:
        self.prometheus.stop()
        self.kafka.stop()

    def describe(self) -> str:
        return (
            f"Kafka bootstrap:      {self.kafka.bootstrap_servers}\n"
            f"JMX exporter metrics: http://{self.kafka.jmx_exporter_target}/metrics\n"
            f"Prometheus:           {self.prometheus.url}\n"
            f"Work directory:       {self.workdir}"
        )


def new_stack() -> Stack:
    return Stack(Path(tempfile.mkdtemp(prefix="costopt-stack-")))


ZONE_CLUSTER_LABEL = "zones"


@dataclass
class ZoneStack:
    """`KafkaCluster` (three zones, SCRAM/mTLS/OAUTHBEARER/PLAIN listeners) and a Prometheus
    that scrapes all three nodes (label `cluster="zones"`) and serves HTTPS, signed by the
    run's CA, behind basic auth (`prometheus_user`)."""

    workdir: Path
    pki: Pki = field(init=False)
    kafka: KafkaCluster = field(init=False)
    prometheus: PrometheusServer = field(init=False)
    prometheus_user: Credentials = field(init=False)
    started_at: float = field(init=False, default=0.0)
    kafka_start_seconds: float = field(init=False, default=0.0)
    prometheus_start_seconds: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.pki = make_pki(self.workdir / "pki")
        self.kafka = KafkaCluster(self.workdir / "kafka", self.pki)
        self.prometheus_user = Credentials("costopt", secrets.token_urlsafe(18))
        self.prometheus = PrometheusServer(
            self.workdir / "prometheus", scrape_targets=self.kafka.jmx_exporter_targets,
            cluster_label=ZONE_CLUSTER_LABEL,
            web=WebSecurity(self.pki.server_cert_path, self.pki.server_key_path,
                            self.pki.ca_path,
                            {self.prometheus_user.username: self.prometheus_user.password}))

    def start(self) -> None:
        began = time.monotonic()
        self.kafka.start()
        self.kafka_start_seconds = time.monotonic() - began
        self.started_at = time.time()
        began = time.monotonic()
        try:
            self.prometheus.start()
            self._wait_scraped(began + 120)
        except Exception:
            self.stop()
            raise
        self.prometheus_start_seconds = time.monotonic() - began

    def _wait_scraped(self, deadline: float) -> None:
        """Until Prometheus has scraped every node once (`up == 1` for each), so tests can
        query from the start."""
        query = urllib.parse.urlencode({"query": f'up{{cluster="{ZONE_CLUSTER_LABEL}"}} == 1'})
        while True:
            answer = json.loads(self.prometheus.request(f"/api/v1/query?{query}"))
            if len(answer["data"]["result"]) == len(self.kafka.nodes):
                return
            if time.monotonic() > deadline:
                raise StartError(f"Prometheus has not scraped all {len(self.kafka.nodes)} "
                                 f"nodes: {answer['data']['result']}")
            time.sleep(0.5)

    def stop(self) -> None:
        self.prometheus.stop()
        self.kafka.stop()

    def describe(self) -> str:
        kafka = self.kafka
        nodes = "\n".join(
            f"  node {node.node_id} rack {node.rack}: JMX exporter "
            f"http://{node.jmx_exporter_target}/metrics" for node in kafka.node_info)
        return (
            f"Kafka nodes (started in {self.kafka_start_seconds:.1f} s):\n{nodes}\n"
            f"Bootstrap PLAINTEXT:  {kafka.bootstrap('PLAINTEXT')}\n"
            f"Bootstrap SASL_SSL:   {kafka.bootstrap('SASL_SSL')}  (SCRAM-SHA-512 user "
            f"{kafka.scram.username}, password {kafka.scram.password}; or OAUTHBEARER, "
            "unsecured JWS)\n"
            f"Bootstrap mTLS (SSL): {kafka.bootstrap('MTLS')}  (client cert "
            f"{self.pki.client_cert_path}, key {self.pki.client_key_path})\n"
            f"Bootstrap APIKEY:     {kafka.bootstrap('APIKEY')}  (SASL_SSL PLAIN, key "
            f"{kafka.plain.username}, secret {kafka.plain.password})\n"
            f"CA certificate:       {self.pki.ca_path}\n"
            f"Prometheus:           {self.prometheus.url}  (started in "
            f"{self.prometheus_start_seconds:.1f} s; basic auth {self.prometheus_user.username}"
            f" / {self.prometheus_user.password}; label cluster=\"{ZONE_CLUSTER_LABEL}\")\n"
            f"Work directory:       {self.workdir}"
        )


def new_zone_stack() -> ZoneStack:
    return ZoneStack(Path(tempfile.mkdtemp(prefix="costopt-zones-")))
