"""The what-if engine: no change is the baseline exactly; the top recommendation's change
reproduces its saving; bad changes are refused naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from costopt.base.errors import NotFound
from costopt.prices.catalog import resolve_catalog
from costopt.whatif import Change, Selector, run_whatif
from tests.fleets import analyzed


def test_no_change_equals_the_baseline_exactly() -> None:
    analysis = analyzed("small")
    result = run_whatif(analysis.models, [], horizon_days=90)
    assert result.projected == result.baseline
    assert result.delta.amount == 0
    assert result.baseline.amount == Decimal(analysis.monthly_cost_micros()) / 10**6
    assert len(result.topics) == 0


def test_top_recommendation_is_reproduced_by_its_whatif() -> None:
    analysis = analyzed("small")
    top = next(r for r in analysis.recommendations if r.whatif)
    result = run_whatif(analysis.models, list(top.whatif))
    assert (result.baseline - result.projected).rounded() == top.monthly_savings.rounded()


def test_shorter_retention_and_zstd_on_one_topic_lower_its_cost() -> None:
    analysis = analyzed("small")
    cost = analysis.costs[0]
    long_kept = cost.frame.loc[cost.frame["retention_ms"] >= 7 * 86_400_000, "topic"]
    rows = cost.topic_rows()
    busiest = rows[rows["topic"].isin(long_kept)].nlargest(1, "monthly_cost_micros").iloc[0]
    change = Change(selector=Selector(cluster=cost.cluster, topic=busiest["topic"]),
                    retention_ms=3 * 86_400_000, compression="zstd")
    result = run_whatif(analysis.models, [change])
    [row] = result.topics.to_frame().to_dict("records")
    assert row["topic"] == busiest["topic"]
    assert row["projected_micros"] < row["baseline_micros"]
    assert result.projected.amount < result.baseline.amount


def test_growth_raises_metered_cost_and_capacity_use_but_not_the_capacity_bill() -> None:
    analysis = analyzed("small")
    grown = run_whatif(analysis.models, [Change(selector=Selector(all=True), growth_pct=50)])
    assert grown.projected.amount > grown.baseline.amount
    for component in ("compute",):  # brokers are paid for as they are: no resize, no change
        assert grown.projected_by_component[component] == grown.baseline_by_component[component]
    for capacity in grown.capacity:
        assert capacity.disk_used_bytes_projected > capacity.disk_used_bytes_now


def test_broker_count_changes_the_bill_and_the_capacity_block() -> None:
    analysis = analyzed("small")
    cluster, model = next((name, m) for name, m in analysis.models.items()
                          if m.catalog.name == "aws-self-managed"
                          and len(m.snapshot.brokers) > 3)
    before = len(model.snapshot.brokers)
    fewer = max(t.replication_factor for t in model.snapshot.topics)
    result = run_whatif(analysis.models, [Change(selector=Selector(cluster=cluster),
                                                 broker_count=fewer)],
                        resolve_catalog=resolve_catalog)
    assert result.projected.amount < result.baseline.amount
    [capacity] = [c for c in result.capacity if c.cluster == cluster]
    assert capacity.brokers == fewer < before
    assert capacity.disk_capacity_bytes == fewer * model.snapshot.brokers[0].disk_capacity_bytes
    assert capacity.disk_fill_projected == pytest.approx(
        capacity.disk_used_bytes_projected / capacity.disk_capacity_bytes)


def test_too_few_brokers_for_the_replication_factor_is_refused_and_overfull_disks_warn() -> None:
    analysis = analyzed("small")
    cluster = next(iter(analysis.models))
    with pytest.raises(ValueError, match="cannot hold topics with replication factor"):
        run_whatif(analysis.models, [Change(selector=Selector(cluster=cluster),
                                            broker_count=1)])
    tiny_disks = run_whatif(analysis.models, [Change(selector=Selector(cluster=cluster),
                                                     broker_disk_bytes=2 * 1024**3)])
    assert any("disk at 90 days" in w and "limit 85%" in w for w in tiny_disks.warnings)


@pytest.mark.parametrize("payload,field", [
    ({"selector": {}, "retention_ms": 86_400_000}, "selector"),
    ({"selector": {"topic": "a"}, "retention_ms": -5}, "retention_ms"),
    ({"selector": {"topic": "a"}, "compression": "brotli"}, "compression"),
    ({"selector": {"topic": "a"}, "partitions": 0}, "partitions"),
    ({"selector": {"topic": "a"}, "growth_pct": float("nan")}, "growth_pct"),
    ({"selector": {"topic": "a"}}, "change must set"),
    ({"selector": {"pattern": "(unclosed"}, "partitions": 3}, "pattern"),
])
def test_bad_changes_are_refused_naming_the_field(payload: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Change.model_validate(payload)


def test_unknown_cluster_and_horizon_are_refused() -> None:
    analysis = analyzed("small")
    with pytest.raises(NotFound, match="unknown cluster 'nope'"):
        run_whatif(analysis.models, [Change(selector=Selector(cluster="nope"), partitions=3)])
    with pytest.raises(ValueError, match="horizon_days"):
        run_whatif(analysis.models, [], horizon_days=0)
