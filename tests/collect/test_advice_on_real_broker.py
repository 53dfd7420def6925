"""Advice on the real Kafka broker of the test stack, collected twice a minute apart:

- a compacted ledger read by a live consumer group, with no writes in the window, is state,
  never "idle";
- an unread, quiet topic after minutes of history is a provisional "watch" item whose evidence
  says how little was observed, never a deletion;
- a retention recommendation, accepted through the API and applied through the Admin API, is
  detected in the next collect, and its realized saving (priced on the traffic of the snapshot
  it was accepted on) is within 10% of the predicted one;
- freed capacity follows the retained-bytes formula: the topic minutes old, younger than the
  proposed retention, frees nothing now (so its cut saves nothing yet), and a topic whose
  retention.bytes binds is credited with no freed capacity for a retention.ms cut.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import httpx
import pytest
import yaml
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)
from fastapi.testclient import TestClient

from api.app import create_app
from costopt.analyze.analysis import FleetAnalysis, analyze_store
from costopt.config import (
    ApiSettings,
    ClusterSettings,
    PrometheusSettings,
    ScheduleSettings,
    Settings,
)
from costopt.sources.collect import collect_cluster
from costopt.store import Store, sqlite_url
from costopt.whatif import Change, Selector, run_whatif
from tests.stack.stack import Stack

pytestmark = pytest.mark.stack
WEEK_MS = 7 * 86_400_000
RULES = {"retention": {"min_window_days": 0, "min_monthly_savings": 0,
                       "min_disk_freed_gib": 0}}


BOUND_BYTES = 1_000_000  # retention.bytes of the size-bound topic's one partition


@dataclass
class Scene:
    ledger: str
    quiet: str
    orders: str
    bounded: str
    store: Store
    settings: Settings
    cluster: ClusterSettings
    stop: threading.Event
    admin: AdminClient


def _keep_reading(bootstrap: str, group: str, topic: str, stop: threading.Event) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": True,
                         "auto.commit.interval.ms": 1000})
    consumer.subscribe([topic])
    while not stop.is_set():
        consumer.poll(0.5)
    consumer.close()


def _keep_producing(bootstrap: str, topic: str, stop: threading.Event) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    while not stop.is_set():
        for _ in range(50):
            producer.produce(topic, b"o" * 1000)
        producer.poll(0)
        time.sleep(0.1)  # about 500 kB/s
    producer.flush(30)


def _catalog(directory: Path) -> Path:
    """Confluent Cloud's catalog with storage at $100/GiB-month (a user's own catalog file):
    a minute of a test topic's bytes is then worth cents, not fractions of one."""
    text = resources.files("costopt.prices").joinpath("catalogs/confluent-cloud.yaml")
    catalog = yaml.safe_load(text.read_text())
    catalog.update(name="confluent-cloud-test", block_storage_per_gb_month=100)
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return path


def _next_boundary(after_seconds: float) -> float:
    return math.ceil((time.time() + after_seconds) / 60) * 60


def _wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.5)


@pytest.fixture(scope="module")
def scene(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    bootstrap = stack.kafka.bootstrap_servers
    suffix = uuid.uuid4().hex[:6]
    ledger, quiet, orders, bounded = (f"adv.{n}.{suffix}"
                                      for n in ("ledger", "quiet", "orders", "bounded"))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([
            NewTopic(ledger, 1, 1, config={"cleanup.policy": "compact"}),
            NewTopic(quiet, 1, 1, config={"retention.ms": str(WEEK_MS)}),
            NewTopic(orders, 3, 1, config={"retention.ms": str(WEEK_MS)}),
            NewTopic(bounded, 1, 1, config={"retention.ms": str(WEEK_MS),
                                            "retention.bytes": str(BOUND_BYTES)})]).values():
        future.result(30)
    producer = Producer({"bootstrap.servers": bootstrap})
    for key in range(200):  # state written once, long before the window
        producer.produce(ledger, key=f"account-{key}".encode(), value=b"balance" * 20)
        producer.produce(quiet, b"q" * 500)
    for _ in range(BOUND_BYTES // 1000):  # the size limit's worth, before the window
        producer.produce(bounded, b"b" * 1000)
    producer.flush(30)
    stop = threading.Event()
    threads = [threading.Thread(target=_keep_reading, daemon=True,
                                args=(bootstrap, f"adv-ledger-{suffix}", ledger, stop)),
               threading.Thread(target=_keep_reading, daemon=True,
                                args=(bootstrap, f"adv-orders-{suffix}", orders, stop)),
               threading.Thread(target=_keep_producing, daemon=True,
                                args=(bootstrap, orders, stop)),
               threading.Thread(target=_keep_reading, daemon=True,
                                args=(bootstrap, f"adv-bounded-{suffix}", bounded, stop)),
               threading.Thread(target=_keep_producing, daemon=True,
                                args=(bootstrap, bounded, stop))]
    for thread in threads:
        thread.start()
    try:
        yield _first_collect(stack, Scene(ledger, quiet, orders, bounded, *_store_and_settings(
            stack, tmp_path_factory), stop, admin))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)


def _store_and_settings(stack: Stack, tmp_path_factory: pytest.TempPathFactory
                        ) -> tuple[Store, Settings, ClusterSettings]:
    bootstrap = stack.kafka.bootstrap_servers
    directory = Path(tmp_path_factory.mktemp("advice"))
    store = Store.open(sqlite_url(directory / "costopt.db"))
    cluster = ClusterSettings(
        name="stack", bootstrap_servers=bootstrap,
        prometheus=PrometheusSettings(url=stack.prometheus.url),
        catalog=str(_catalog(directory)), instance_type="eCKU", window_seconds=30,
        lookback_seconds=30, hourly_days=1)
    settings = Settings(clusters=[cluster], rules=RULES, api=ApiSettings(auth_enabled=False),
                        schedule=ScheduleSettings(collect_every_minutes=1, history_days=1))
    return store, settings, cluster


def _scraped(stack: Stack, topic: str) -> bool:
    body = httpx.get(f"{stack.prometheus.url}/api/v1/query", timeout=10, params={
        "query": f'kafka_server_brokertopicmetrics_bytesin_total{{topic="{topic}"}}'}).json()
    return bool(body["data"]["result"])


def _first_collect(stack: Stack, scene: Scene) -> Scene:
    """A collect reads the last whole minute: let production and reading fill one that
    Prometheus scraped throughout (the stack may have just started)."""
    deadline = time.time() + 120
    while not _scraped(stack, scene.orders) and time.time() < deadline:
        time.sleep(1)
    boundary = _next_boundary(45)
    _wait_until(boundary + 6)
    collect_cluster(scene.cluster, scene.store, scene.settings,
                    at=datetime.fromtimestamp(boundary + 1, tz=UTC))
    return scene


def _analysis(scene: Scene) -> FleetAnalysis:
    return analyze_store(scene.store, scene.settings)


def test_a_compacted_ledger_read_live_is_state_and_a_quiet_topic_is_only_watched(
        scene: Scene) -> None:
    analysis = _analysis(scene)
    cluster = analysis.clusters["stack"]
    snapshot = cluster.model.snapshot
    ledger = snapshot.topic(scene.ledger)
    assert ledger.is_compacted and ledger.bytes_in_per_second == 0 and ledger.log_size_bytes > 0
    assert any(g.topic == scene.ledger and g.members > 0 for g in snapshot.groups)
    skipped = {s.target: s.reason for s in cluster.skipped}
    assert skipped[scene.ledger].startswith("compacted")
    about = {r.target: r for r in analysis.recommendations if r.kind == "idle_topic"}
    assert scene.ledger not in about
    watch = about[scene.quiet]
    assert watch.category == "watch" and watch.provisional and watch.title.startswith("Watch:")
    assert watch.observed_days is not None and watch.observed_days < 1 / 24  # minutes
    assert watch.needed_days == 7
    windows = {e.window for e in watch.evidence}
    assert any(w.endswith("observed (7 d needed)") and ("min" in w or " s " in w)
               for w in windows), windows
    plan = analysis.plan()
    assert scene.quiet not in {s.recommendation.target for s in plan.steps}


def test_an_accepted_retention_cut_is_detected_and_realizes_its_predicted_saving(
        scene: Scene) -> None:
    open_settings = scene.settings
    with TestClient(create_app(open_settings, scene.store)) as client:
        recs = client.get("/v1/recommendations", params={"kind": "retention"}).json()["items"]
        [rec] = [r for r in recs if r["target"] == scene.orders]
        # Minutes old, younger than the proposed retention: the cut frees nothing now, and the
        # log has not run for its retention, so nothing at steady state is counted either.
        assert Decimal(rec["monthly_savings"]) == 0
        assert rec["capacity_freed"]["disk_bytes_now"] == 0
        assert rec["capacity_freed"]["disk_bytes"] == 0
        assert rec["capacity_freed"]["disk_bytes_steady_state"] > 0  # once it has run a week
        [basis] = [e["value"] for e in rec["evidence"] if e["name"] == "capacity_freed_basis"]
        assert basis.startswith("now: the log has not yet run for its retention")
        accepted = client.post(f"/v1/recommendations/{rec['id']}/accept",
                               json={"reason": "cut it"})
        assert accepted.status_code == 200
        before = client.get(f"/v1/recommendations/{rec['id']}").json()["realized"]
        assert before["applied"] is False
    proposed = int(rec["proposed"]["retention.ms"])
    resource = ConfigResource(ConfigResource.Type.TOPIC, scene.orders, incremental_configs=[
        ConfigEntry("retention.ms", str(proposed),
                    incremental_operation=AlterConfigOpType.SET)])
    for future in scene.admin.incremental_alter_configs([resource]).values():
        future.result(30)
    boundary = _next_boundary(5)
    _wait_until(boundary + 6)
    collect_cluster(scene.cluster, scene.store, scene.settings,
                    at=datetime.fromtimestamp(boundary + 1, tz=UTC))
    assert scene.store.latest_snapshot("stack").snapshot.topic(scene.orders).retention_ms \
        == proposed
    with TestClient(create_app(open_settings, scene.store)) as client:
        detail = client.get(f"/v1/recommendations/{rec['id']}").json()
    realized = detail["realized"]
    assert detail["status"] == "accepted" and realized["applied"] is True
    assert realized["observed"] == f"retention.ms={proposed}"
    predicted = Decimal(realized["predicted_monthly_savings"])
    assert predicted == Decimal(rec["monthly_savings"])
    assert abs(Decimal(realized["realized_monthly_savings"]) - predicted) <= predicted / 10


def test_a_retention_ms_cut_where_retention_bytes_binds_frees_no_capacity(scene: Scene) -> None:
    analysis = _analysis(scene)
    model = analysis.models["stack"]
    topic = model.snapshot.topic(scene.bounded)
    assert topic.retention_bytes == BOUND_BYTES and topic.bytes_in_per_second > 0
    assert topic.log_size_bytes >= BOUND_BYTES  # it has filled its size limit
    day_ms = 86_400_000
    assert topic.bytes_in_per_second * day_ms / 1000 > BOUND_BYTES  # a day holds more than it
    result = run_whatif(analysis.models, [Change(
        selector=Selector(cluster="stack", topic=scene.bounded), retention_ms=day_ms)])
    [capacity] = result.capacity
    assert capacity.disk_bytes_freed == 0
    assert result.projected == result.baseline
    [rec] = [r for r in analysis.recommendations
             if r.kind == "retention" and r.target == scene.bounded]
    assert rec.capacity_freed is not None
    assert rec.capacity_freed["disk_bytes"] == rec.capacity_freed["disk_bytes_steady_state"] == 0
    assert rec.capacity_freed["disk_bytes_now"] == 0
    assert rec.monthly_savings.amount == 0
    assert any(e.name == "capacity_freed_basis" and str(e.value).startswith("steady state")
               for e in rec.evidence)
