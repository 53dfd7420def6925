"""A real Kafka broker for the change tests (no Prometheus: applying and exporting changes
reads and writes topic configs only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack.kafka_broker import KafkaBroker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    server = KafkaBroker(Path(tmp_path_factory.mktemp("changes-kafka")))
    server.start()
    yield server
    server.stop()
