"""The whole test stack: one Kafka broker with the JMX agent, and a Prometheus scraping it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.stack.kafka_broker import KafkaBroker
from tests.stack.prometheus_server import PrometheusServer


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
        import time

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
