"""`costopt apply` on the real broker, with the audit trail on SQLite and PostgreSQL:

- applying a plan's retention and topic-compression steps changes exactly those configs
  (read back through the Admin API) and nothing else;
- a topic whose config was changed behind costopt's back is refused, and the others applied;
- a protected platform topic is refused;
- more than --max-changes at once are refused beyond the limit;
- the undo file restores the before values, refusing a topic whose config moved on since;
- every change made or undone is an audit row (`GET /v1/changes` lists them);
- the exported kafka-configs script, run twice, leaves the configs `costopt apply` leaves.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from costopt.changes.apply_to_cluster import read_undo_file, run
from costopt.changes.export import export_plan
from costopt.changes.topic_changes import topic_changes
from costopt.config import ApiSettings, Settings
from costopt.rules.protected import Protection
from costopt.sources.kafka.alter import AdminConfigAccess
from costopt.store import Store
from costopt.store.change_audit import ChangeStore
from tests.changes.scene import (
    DAY_MS,
    WEEK_MS,
    configs,
    make_scene,
    set_config,
    settled,
)
from tests.stack.kafka_broker import KafkaBroker

pytestmark = pytest.mark.stack


def test_apply_changes_exactly_the_plans_configs_and_undo_restores_them(
        broker: KafkaBroker, store: Store, tmp_path: Path) -> None:
    scene = make_scene(broker.bootstrap_servers)
    before = {t: configs(scene.admin, t) for t in (scene.orders, scene.clicks, scene.moved)}
    set_config(scene.admin, scene.moved, "retention.ms", str(3 * DAY_MS))
    changes = topic_changes(scene.plan)
    audit = ChangeStore(store)

    def access(name: str) -> AdminConfigAccess:
        assert name == scene.cluster.name
        return AdminConfigAccess(scene.cluster)

    dry = run(changes, access, Protection(), yes=False, max_changes=2, who="tester",
              audit=audit, undo_path=tmp_path / "never.json")
    assert [(c.topic, c.step) for c in dry.ready] == [(scene.orders, 1), (scene.orders, 2)]
    assert any("--max-changes (2)" in r.reason and r.change.topic == scene.clicks
               for r in dry.refused)
    assert configs(scene.admin, scene.orders) == before[scene.orders]  # a dry run writes nothing
    assert audit.changes() == [] and not (tmp_path / "never.json").exists()

    undo_file = tmp_path / "undo.json"
    result = run(changes, access, Protection(), yes=True, max_changes=20, who="tester",
                 audit=audit, undo_path=undo_file)
    assert [(c.topic, c.step) for c in result.applied] == [
        (scene.orders, 1), (scene.orders, 2), (scene.clicks, 3)]
    reasons = {r.change.topic: r.reason for r in result.refused}
    assert "changed since the plan's snapshot" in reasons[scene.moved]
    assert f"retention.ms is {3 * DAY_MS}" in reasons[scene.moved]
    assert reasons[scene.changelog].startswith("protected (kafka-streams)")
    assert result.failed == []

    expected_orders = {**before[scene.orders], "retention.ms": str(DAY_MS),
                       "compression.type": "zstd"}
    after = {scene.orders: settled(scene.admin, scene.orders, expected_orders),
             scene.clicks: settled(scene.admin, scene.clicks, {"retention.ms": str(2 * DAY_MS)}),
             scene.moved: configs(scene.admin, scene.moved)}
    assert after[scene.orders] == expected_orders
    assert after[scene.clicks] == {**before[scene.clicks], "retention.ms": str(2 * DAY_MS)}
    assert after[scene.moved]["retention.ms"] == str(3 * DAY_MS)
    assert configs(scene.admin, scene.changelog)["retention.ms"] == str(WEEK_MS)

    rows = audit.changes()
    assert sorted((r["topic"], r["plan_step"], r["action"]) for r in rows) == sorted([
        (scene.orders, 1, "apply"), (scene.orders, 2, "apply"), (scene.clicks, 3, "apply")])
    row = next(r for r in rows if r["plan_step"] == 2)
    assert row["before"] == {"compression.type": "producer"}
    assert row["after"] == {"compression.type": "zstd"}
    assert row["applied_by"] == "tester"
    assert row["recommendation_id"] == scene.plan.steps[1].recommendation.id

    # The clicks topic moves on again after costopt set it: undo leaves it alone.
    set_config(scene.admin, scene.clicks, "retention.ms", str(5 * DAY_MS))
    undone = run(read_undo_file(undo_file), access, None, yes=True, max_changes=20,
                 who="tester", audit=audit, undo_path=None, action="undo",
                 moved="moved on since costopt set it")
    assert [(c.topic, c.step) for c in undone.applied] == [(scene.orders, 1), (scene.orders, 2)]
    assert [r.change.topic for r in undone.refused] == [scene.clicks]
    assert "moved on since costopt set it" in undone.refused[0].reason
    assert settled(scene.admin, scene.orders, before[scene.orders]) == before[scene.orders]
    assert configs(scene.admin, scene.clicks)["retention.ms"] == str(5 * DAY_MS)

    client = TestClient(create_app(Settings(store_url=store.url,
                                            api=ApiSettings(auth_enabled=False)), store))
    listed = client.get("/v1/changes", params={"topic": scene.orders}).json()["items"]
    assert [(r["action"], r["plan_step"]) for r in listed][:2] in (
        [("undo", 1), ("undo", 2)], [("undo", 2), ("undo", 1)])
    assert len(listed) == 4


def test_the_kafka_configs_script_gives_the_same_configs_as_costopt_apply(
        broker: KafkaBroker, tmp_path: Path) -> None:
    """The exported script, run with Kafka's own ConfigCommand, and `costopt apply` of the
    same steps leave the same configs on twin topics."""
    scripted, applied = make_scene(broker.bootstrap_servers), make_scene(broker.bootstrap_servers)
    steps = [step for step in scripted.plan.steps if step.number <= 3]  # orders and clicks
    (script,) = [f for f in export_plan(scripted.plan, steps, {}, "kafka-configs",
                                        {"stack": broker.bootstrap_servers})
                 if f.path.startswith("kafka-configs/")]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "kafka-configs.sh"
    tool.write_text("#!/bin/sh\nexec " + shlex.join(broker._java_command(
        "kafka.admin.ConfigCommand", tool=True)) + ' "$@"\n')
    tool.chmod(0o755)
    (tmp_path / "apply.sh").write_text(script.text)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for _ in range(2):  # idempotent: a second run changes nothing and does not fail
        subprocess.run(["sh", str(tmp_path / "apply.sh")], env=env, check=True,
                       capture_output=True, timeout=180)

    result = run(topic_changes(applied.plan, steps=("1", "2", "3")),
                 lambda _cluster: AdminConfigAccess(applied.cluster), Protection(), yes=True,
                 max_changes=20, who="tester", audit=None, undo_path=None)
    assert len(result.applied) == 3
    for twin in ("orders", "clicks"):
        by_script = configs(scripted.admin, getattr(scripted, twin))
        by_apply = settled(applied.admin, getattr(applied, twin), by_script)
        assert by_script == by_apply
    assert configs(scripted.admin, scripted.orders)["compression.type"] == "zstd"
