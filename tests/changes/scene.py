"""Topics on the real broker and a plan of retention and compression steps for them.

The plan's steps are written here as the retention and compression rules write theirs
(`kafka-configs.sh --alter` change, `current` as the snapshot saw it, `proposed`): costing a
real broker's topics into such steps takes a minute-long collect (see
`tests/collect/test_advice_on_real_broker.py`), and what is under test here is what happens
to a plan's steps after that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from costopt.analyze.plan import PlanStep, SavingsPlan
from costopt.base.money import Money
from costopt.config import ClusterSettings
from costopt.rules.recommendation import Recommendation

WEEK_MS = 7 * 86_400_000
DAY_MS = 86_400_000
CLUSTER = "stack"


@dataclass(frozen=True)
class Scene:
    orders: str  # retention and compression steps
    clicks: str  # a retention step
    moved: str  # a retention step, its config changed behind costopt's back
    changelog: str  # a protected Kafka Streams changelog with a retention step
    plan: SavingsPlan
    cluster: ClusterSettings
    admin: AdminClient


def _rec(topic: str, kind: str, current: dict[str, object], proposed: dict[str, object],
         saving: str) -> Recommendation:
    settings = ",".join(f"{k}={v}" for k, v in proposed.items())
    return Recommendation(
        cluster=CLUSTER, kind=kind, target_type="topic", target=topic, owner="payments",
        title=f"{kind} of {topic}", evidence=(), current=current, proposed=proposed,
        monthly_savings=Money(Decimal(saving), "USD"), risk="low", confidence=0.9,
        change=f"kafka-configs.sh --bootstrap-server b:9092 --alter --entity-type topics "
               f"--entity-name {topic} --add-config {settings}")


def make_scene(bootstrap: str) -> Scene:
    suffix = uuid.uuid4().hex[:6]
    orders, clicks, moved = (f"chg.{n}.{suffix}" for n in ("orders", "clicks", "moved"))
    changelog = f"chg-app-store-{suffix}-changelog"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([
            NewTopic(name, 1, 1, config={"retention.ms": str(WEEK_MS)})
            for name in (orders, clicks, moved, changelog)]).values():
        future.result(30)
    for name in (orders, clicks, moved, changelog):
        _wait_for(admin, name)
    recs = [_rec(orders, "retention", {"retention.ms": WEEK_MS}, {"retention.ms": DAY_MS},
                 "120.50"),
            _rec(orders, "compression", {"compression.type": "producer"},
                 {"compression.type": "zstd"}, "40.25"),
            _rec(clicks, "retention", {"retention.ms": WEEK_MS}, {"retention.ms": 2 * DAY_MS},
                 "80"),
            _rec(moved, "retention", {"retention.ms": WEEK_MS}, {"retention.ms": DAY_MS},
                 "60"),
            _rec(changelog, "retention", {"retention.ms": WEEK_MS}, {"retention.ms": DAY_MS},
                 "30")]
    steps, cumulative = [], 0
    for number, rec in enumerate(recs, start=1):
        saving = int(rec.monthly_savings.amount * 1_000_000)
        cumulative += saving
        steps.append(PlanStep(number, rec, saving, cumulative, 0.0, 0.0))
    plan = SavingsPlan("USD", 10_000_000_000, tuple(steps))
    return Scene(orders, clicks, moved, changelog, plan,
                 ClusterSettings(name=CLUSTER, bootstrap_servers=bootstrap), admin)


def _wait_for(admin: AdminClient, topic: str) -> None:
    """A topic just created may not be known to the broker's config handler for a moment."""
    import time

    from confluent_kafka import KafkaException

    deadline = time.monotonic() + 30
    while True:
        try:
            configs(admin, topic)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def set_config(admin: AdminClient, topic: str, key: str, value: str) -> None:
    """A change made behind costopt's back (another tool, a person)."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)
    # The broker acknowledges before every config reader sees the new value: wait for it, as
    # costopt apply would find it a moment later.
    import time

    deadline = time.monotonic() + 30
    while configs(admin, topic).get(key) != value:
        assert time.monotonic() < deadline, f"{topic}: {key} never read back as {value}"
        time.sleep(0.2)


def configs(admin: AdminClient, topic: str) -> dict[str, str]:
    """Every config of the topic as the broker reports it now."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = next(iter(admin.describe_configs([resource]).values())).result(30)
    return {key: entry.value for key, entry in entries.items()}


def settled(admin: AdminClient, topic: str, expected: dict[str, str]) -> dict[str, str]:
    """The topic's configs once `expected` reads back (at most 30 s): what a reader sees after
    the brokers acknowledged a change."""
    import time

    deadline = time.monotonic() + 30
    while True:
        now = configs(admin, topic)
        if all(now.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            return now
        time.sleep(0.2)
