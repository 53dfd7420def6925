"""Each rule on crafted clusters: when it fires, and when it must not."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from costopt.analyze.analysis import ClusterAnalysis
from costopt.config import Settings
from costopt.rules import RULE_NAMES, Recommendation, check_rule_settings
from costopt.whatif import project_cluster, run_whatif
from tests.rules import fixtures


def kinds(analysis: ClusterAnalysis, kind: str) -> list[Recommendation]:
    return [r for r in analysis.recommendations if r.kind == kind]


def test_retention_fires_when_data_outlives_every_reader() -> None:
    [rec] = kinds(fixtures.over_retained_fleet(), "retention")
    assert rec.current == {"retention.ms": 30 * fixtures.DAY_MS}
    assert rec.proposed == {"retention.ms": fixtures.DAY_MS}  # the 24 h floor
    # Disks are provisioned: the cut frees 29 of 30 days of disk, and saves money only once
    # the disks are resized (the plan does that), never by itself.
    assert rec.monthly_savings.amount == 0 and rec.monthly_savings.currency == "USD"
    topic = fixtures.over_retained_fleet().model.snapshot.topics[0]
    freed = round(topic.log_size_bytes * 3 * 29 / 30)  # a full log: steady state is now
    assert rec.capacity_freed == {"disk_bytes": freed, "brokers": 0.0,
                                  "disk_bytes_steady_state": freed, "disk_bytes_now": freed}
    assert "--add-config retention.ms=86400000" in rec.change
    assert "--entity-name payments.orders.v1" in rec.change


def test_retention_respects_a_weekly_batch_reader_and_compaction() -> None:
    assert kinds(fixtures.weekly_batch_fleet(), "retention") == []
    assert kinds(fixtures.compacted_fleet(), "retention") == []


def test_retention_ignores_the_lag_of_abandoned_groups() -> None:
    [rec] = kinds(fixtures.abandoned_reader_fleet(), "retention")
    assert rec.proposed["retention.ms"] == fixtures.DAY_MS
    [abandoned] = kinds(fixtures.abandoned_reader_fleet(), "abandoned_group")
    assert abandoned.target == "old-svc" and abandoned.target_type == "group"
    assert "kafka-consumer-groups.sh" in abandoned.change and "--delete" in abandoned.change


def test_idle_topics_fire_but_dead_letter_and_retry_topics_are_exempt() -> None:
    found = {r.target for r in kinds(fixtures.idle_and_dlq_fleet(), "idle_topic")}
    assert found == {"search.clicks.v1"}


def test_over_partitioned_topic_gets_a_migration_not_an_in_place_shrink() -> None:
    recs = kinds(fixtures.over_partitioned_fleet(), "partitions")
    assert [r.target for r in recs] == ["ads.impressions.v1"]
    rec = recs[0]
    assert rec.proposed == {"partitions": 3}
    assert "--create" in rec.change and "cannot shrink" in rec.change
    assert rec.monthly_savings.amount == 0  # brokers are paid for: it frees broker load
    assert rec.capacity_freed is not None and rec.capacity_freed["brokers"] > 0


def test_compression_fires_on_uncompressed_json_not_on_blobs() -> None:
    recs = kinds(fixtures.uncompressed_fleet(), "compression")
    assert [r.target for r in recs] == ["orders.json.v1"]
    rec = recs[0]
    assert rec.proposed["compression.type"] == "zstd"
    assert rec.proposed["stored_to_raw_ratio"] < 0.5 * rec.current["stored_to_raw_ratio"]
    assert rec.change.startswith("producer config")  # compression.type=producer on the topic
    assert rec.monthly_savings.amount > 0


def test_replication_above_policy_and_inconsistent_min_insync() -> None:
    analysis = fixtures.replication_fleet()
    assert [r.target for r in kinds(analysis, "replication")] == ["ledger.v1"]
    risk = {r.target: r for r in kinds(analysis, "min_insync_replicas")}
    assert set(risk) == {"strict.v1", "loose.v1"}
    assert all(r.monthly_savings.amount == 0 and r.category == "risk" for r in risk.values())
    # Writes stop at the next rolling restart: high; data lost only on an unlucky crash: medium.
    assert (risk["strict.v1"].severity, risk["loose.v1"].severity) == ("high", "medium")


def test_a_replication_factor_above_the_broker_count_is_a_data_error_not_a_need() -> None:
    analysis = fixtures.impossible_replication_fleet()
    [error] = kinds(analysis, "misconfiguration")
    assert error.target == "ledger.v1" and error.severity == "critical"
    assert kinds(analysis, "replication") == []
    assert kinds(analysis, "capacity") == []  # no brokers bought for an impossible topic


def test_oversized_cluster_gets_fewer_brokers_with_reproducible_savings() -> None:
    analysis = fixtures.oversized_cluster_fleet()
    [rec] = kinds(analysis, "broker_sizing")
    assert rec.proposed["brokers"] < 12 and rec.proposed["brokers"] % 3 == 0
    projected = project_cluster(analysis.model, list(rec.whatif))
    bill = sum(analysis.model.cost.bill_micros.values())
    assert rec.monthly_savings.amount == Decimal(bill - sum(projected.bill_micros.values())) / (
        10**6)


def test_fan_out_and_rack_aware_fetching() -> None:
    analysis = fixtures.fan_out_fleet()
    assert [r.target for r in kinds(analysis, "fan_out")] == ["catalog.products.v1"]
    assert len(kinds(analysis, "rack_aware_fetch")) == 1
    assert kinds(fixtures.fan_out_fleet(rack_aware=True), "rack_aware_fetch") == []


def test_tiered_storage_for_long_retention_read_rarely_not_for_compacted() -> None:
    [rec] = kinds(fixtures.weekly_batch_fleet(), "tiered_storage")
    assert rec.proposed == {"remote.storage.enable": True, "local.retention.ms": 86_400_000}
    assert rec.category == "saving"
    assert kinds(fixtures.compacted_fleet(), "tiered_storage") == []


@pytest.mark.parametrize("state", ["false", None])
def test_tiering_where_the_brokers_do_not_tier_states_the_enabling_step_and_cost(
        state: str | None) -> None:
    """Without remote.log.storage.system.enable a topic command would be refused: the finding
    is a watch (out of the savings plan) naming the broker step, then the topic step, and
    what the tier would cost, the same as where tiering runs."""
    [saving] = kinds(fixtures.weekly_batch_fleet("true"), "tiered_storage")
    [rec] = kinds(fixtures.weekly_batch_fleet(state), "tiered_storage")
    assert rec.category == "watch" and rec.risk == "high"
    assert rec.current["remote.log.storage.system.enable"] == (state or "unknown")
    assert rec.proposed["remote.log.storage.system.enable"] is True
    assert rec.change.startswith("1. On every broker")
    assert "remote.log.storage.system.enable=true" in rec.change
    assert "2. Then: " in rec.change and "remote.storage.enable=true" in rec.change
    assert rec.monthly_cost == saving.monthly_cost and rec.monthly_cost is not None
    assert f"{rec.monthly_cost.amount:,.2f} USD/month of object storage" in rec.title


def test_rules_can_be_disabled_and_thresholds_set() -> None:
    disabled = fixtures.analyze(fixtures.over_retained_fleet().model.snapshot.topics,
                                fixtures.over_retained_fleet().model.snapshot.groups,
                                settings=Settings(rules={"retention": {"enabled": False}}))
    assert kinds(disabled, "retention") == []
    higher_floor = fixtures.analyze(
        fixtures.over_retained_fleet().model.snapshot.topics,
        fixtures.over_retained_fleet().model.snapshot.groups,
        settings=Settings(rules={"retention": {"floor_hours": 72}}))
    assert kinds(higher_floor, "retention")[0].proposed == {"retention.ms": 3 * fixtures.DAY_MS}
    with pytest.raises(ValueError, match="no setting"):
        check_rule_settings({"retention": {"flor_hours": 1}})
    with pytest.raises(ValueError, match="unknown rule"):
        check_rule_settings({"retentoin": {}})


@pytest.mark.parametrize("fixture", fixtures.ALL_FIXTURES, ids=lambda f: f.__name__)
def test_every_rule_on_every_fixture_keeps_the_invariants(
        fixture: Callable[[], ClusterAnalysis]) -> None:
    analysis = fixture()
    ids = [r.id for r in analysis.recommendations]
    assert len(ids) == len(set(ids))
    for rec in analysis.recommendations:
        assert rec.kind in RULE_NAMES or rec.kind in ("min_insync_replicas", "capacity",
                                                      "misconfiguration")
        assert rec.evidence and rec.change and rec.title
        assert rec.monthly_savings.currency == "USD" and rec.monthly_savings.period == "month"
        assert 0 <= rec.confidence <= 1 and rec.risk in ("low", "medium", "high")
        assert rec.proposed != rec.current
        assert rec.monthly_cost is None or rec.monthly_cost.amount > 0
        if rec.monthly_savings.amount < 0:  # it costs money now: that is its monthly_cost
            assert rec.monthly_cost is not None
            assert rec.monthly_cost.amount == -rec.monthly_savings.amount
        if rec.whatif:  # the saving is reproduced by the what-if engine, sign included
            result = run_whatif({analysis.model.cluster: analysis.model}, list(rec.whatif))
            assert (result.baseline - result.projected).amount == rec.monthly_savings.amount
