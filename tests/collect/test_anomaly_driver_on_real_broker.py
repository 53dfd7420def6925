"""On the real broker: a topic's `retention.ms` is raised between two collects, and the
driver of an anomaly starting between them names that diff, from the two stored snapshots.

(Detection itself needs two weeks of daily history, which minutes of a test broker do not
have: the simulated fleets test it; this tests that the cause is read from what a real
collect stores.)"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from costopt.anomalies.detect import Episode
from costopt.anomalies.drivers import SnapshotPair, topic_driver
from costopt.cost.owners import OwnerAttribution
from costopt.sources.collect import collect_cluster
from tests.collect.test_advice_on_real_broker import (
    _keep_producing,
    _next_boundary,
    _scraped,
    _store_and_settings,
    _wait_until,
)
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
DAY_MS = 86_400_000


@pytest.fixture
def producing(stack: Stack) -> Iterator[str]:
    topic = f"anomaly.retention.{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": stack.kafka.bootstrap_servers})
    for future in admin.create_topics([NewTopic(topic, 1, 1, config={
            "retention.ms": str(DAY_MS)})]).values():
        future.result(30)
    stop = threading.Event()
    thread = threading.Thread(target=_keep_producing, daemon=True,
                              args=(stack.kafka.bootstrap_servers, topic, stop))
    thread.start()
    try:
        yield topic
    finally:
        stop.set()
        thread.join(30)


def test_a_raised_retention_is_the_named_driver(
        stack: Stack, producing: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    store, settings, cluster = _store_and_settings(stack, tmp_path_factory)
    deadline = datetime.now(UTC).timestamp() + 120
    while not _scraped(stack, producing) and datetime.now(UTC).timestamp() < deadline:
        _wait_until(datetime.now(UTC).timestamp() + 1)
    boundary = _next_boundary(45)
    _wait_until(boundary + 6)
    first = datetime.fromtimestamp(boundary + 1, tz=UTC)
    collect_cluster(cluster, store, settings, at=first)

    admin = AdminClient({"bootstrap.servers": stack.kafka.bootstrap_servers})
    raised = 30 * DAY_MS
    resource = ConfigResource(ConfigResource.Type.TOPIC, producing, incremental_configs=[
        ConfigEntry("retention.ms", str(raised), incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)
    boundary = _next_boundary(5)
    _wait_until(boundary + 6)
    second = datetime.fromtimestamp(boundary + 1, tz=UTC)
    collect_cluster(cluster, store, settings, at=second)

    # An anomaly whose first day lies between the two collects.
    days = pd.DatetimeIndex([pd.Timestamp(first), pd.Timestamp(first) + (second - first) / 2,
                             pd.Timestamp(second)])
    episode = Episode(item=0, start=1, end=2, resolved_day=None, expected_micros=0.0,
                      observed_micros=0.0, impact_micros=0.0)
    driver = topic_driver(SnapshotPair(store), "stack", producing, days, episode,
                          pd.DataFrame(columns=["ts", "cluster", "topic"]),
                          OwnerAttribution().group_owner_of)
    assert driver.kind == "config"
    assert driver.change is not None
    assert f"retention.ms {DAY_MS} → {raised}" in driver.change
    assert driver.before is not None and driver.after is not None
    assert datetime.fromisoformat(driver.before) < datetime.fromisoformat(driver.after)
