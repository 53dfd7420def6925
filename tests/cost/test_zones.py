"""Cross-zone reads from bytes per broker (`costopt/cost/zones.py`), their price, the per-group
advice and its what-if. Hand-made snapshots with known answers; the real three-zone cluster
checks the same against Kafka in `tests/zones/test_cross_zone.py`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costopt.analyze.realized import realized_savings
from costopt.cost import formulas
from costopt.cost.allocation import allocate
from costopt.cost.cluster_model import ClusterModel
from costopt.cost.zones import with_zone_reads, zone_reads
from costopt.prices.catalog import load_builtin_catalog
from costopt.rules.history import History
from costopt.rules.registry import run_rules
from costopt.snapshot.cluster_snapshot import (
    RACK_AWARE_SELECTOR,
    REPLICA_SELECTOR_LABEL,
    Broker,
    ClusterSnapshot,
    TopicBrokerTraffic,
)
from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import run_whatif
from tests.rules import fixtures

RACKS = {1: "az1", 2: "az2", 3: "az3"}
BROKERS = tuple(Broker(broker_id=b, rack=r, instance_type="m5.large",
                       disk_capacity_bytes=2**40) for b, r in RACKS.items())
IN = 300_000.0  # bytes/s produced, a third to each broker's partition


def traffic(topic: str, out: dict[int, float]) -> tuple[TopicBrokerTraffic, ...]:
    return tuple(TopicBrokerTraffic(topic, b, IN / 3, out.get(b, 0.0)) for b in RACKS)


def test_selector_off_every_read_is_a_leader_read() -> None:
    reads = zone_reads(traffic("t", {1: IN, 2: IN, 3: IN}), BROKERS, {}, selector_on=False)
    assert reads["t"].rack_aware_read_bytes_per_second == 0.0
    assert reads["t"].leader_read_bytes_per_second == 3 * IN


@pytest.mark.parametrize(("out", "in_zone"), [
    ({1: IN / 3, 2: IN / 3, 3: IN / 3}, 0.0),  # one group reading leaders
    ({1: IN}, IN),  # one rack-aware group in az1 reads all three partitions from broker 1
    ({1: IN + IN / 3, 2: IN / 3, 3: IN / 3}, IN),  # that group plus one reading leaders
    ({1: IN, 2: IN}, 2 * IN),  # rack-aware groups in two zones
])
def test_in_zone_reads_are_what_leaders_cannot_explain(out: dict[int, float],
                                                       in_zone: float) -> None:
    reads = zone_reads(traffic("t", out), BROKERS, {}, selector_on=True)["t"]
    assert reads.rack_aware_read_bytes_per_second == pytest.approx(in_zone)
    assert reads.bytes_out_per_second == pytest.approx(sum(out.values()))


def test_a_zone_leading_nothing_served_followers_only() -> None:
    """One partition led from az1: what az2 and az3 sent was read from followers."""
    rows = (TopicBrokerTraffic("t", 1, IN, IN), TopicBrokerTraffic("t", 2, 0.0, IN),
            TopicBrokerTraffic("t", 3, 0.0, 0.0))
    reads = zone_reads(rows, BROKERS, {"t": (1,)}, selector_on=True)["t"]
    assert reads.rack_aware_read_bytes_per_second == pytest.approx(IN)


def test_even_rack_aware_reads_in_every_zone_are_a_lower_bound() -> None:
    """Every zone's rack-aware readers alike look like leader reads: the documented limit."""
    reads = zone_reads(traffic("t", {1: IN, 2: IN, 3: IN}), BROKERS, {}, selector_on=True)
    assert reads["t"].rack_aware_read_bytes_per_second == 0.0


def snapshot(selector: bool, out: dict[int, float]) -> ClusterSnapshot:
    topics = (fixtures.topic("orders", rate=IN, bytes_out_per_second=sum(out.values())),)
    groups = (fixtures.reader("billing", "orders"),)
    base = ClusterSnapshot(
        cluster="c1", taken_at=fixtures.NOW, window_seconds=3600, brokers=BROKERS,
        topics=topics, groups=groups, rack_aware_fetch=selector,
        labels={REPLICA_SELECTOR_LABEL: RACK_AWARE_SELECTOR if selector else ""},
        broker_traffic=traffic("orders", out))
    return with_zone_reads(base, selector)


def test_measured_reads_replace_the_declared_setting_in_the_price() -> None:
    catalog = load_builtin_catalog("aws-self-managed")
    leader_reads = snapshot(True, {1: IN / 3, 2: IN / 3, 3: IN / 3})
    in_zone = snapshot(True, {1: IN})
    assumed = replace(in_zone, topics=tuple(
        replace(t, rack_aware_read_bytes_per_second=None) for t in in_zone.topics))
    cost = {name: allocate(s, catalog).bill_micros["network_consumer"]
            for name, s in (("leaders", leader_reads), ("in_zone", in_zone),
                            ("assumed", assumed))}
    crossing = formulas.transfer_cost_per_month(IN * 2 / 3, float(catalog.cross_zone_per_gb),
                                                catalog.gb_bytes)
    assert (cost["leaders"] - cost["in_zone"]) / 1e6 == pytest.approx(crossing, rel=1e-6)
    # Unmeasured, the selector is taken to serve every reader in its zone (the formula).
    assert cost["assumed"] == cost["in_zone"]


def model_of(snap: ClusterSnapshot) -> ClusterModel:
    catalog = load_builtin_catalog("aws-self-managed")
    return ClusterModel(snap, catalog, allocate(snap, catalog), {}, {})


def test_advice_per_group_where_the_selector_runs_and_its_saving_is_its_whatif() -> None:
    snap = snapshot(True, {1: IN / 3, 2: IN / 3, 3: IN / 3})
    model = model_of(snap)
    recs = [r for r in run_rules(model, History.empty(), {
        "rack_aware_fetch": {"min_monthly_savings": 0.01}}).recommendations
        if r.kind == "rack_aware_fetch"]
    assert [(r.target_type, r.target) for r in recs] == [("group", "billing")]
    [rec] = recs
    assert "client.rack=" in rec.change
    assert rec.whatif == (Change(selector=Selector(cluster="c1", group="billing"),
                                 client_rack=True),)
    whatif = run_whatif({"c1": model}, list(rec.whatif))
    assert (whatif.baseline - whatif.projected).amount == rec.monthly_savings.amount
    assert any(e.value == "measured" for e in rec.evidence)
    # Read in its zone now: the advice is gone, and the realized saving is measured.
    after = snapshot(True, {1: IN})
    assert [r for r in run_rules(model_of(after), History.empty(), {
        "rack_aware_fetch": {"min_monthly_savings": 0.01}}).recommendations
        if r.kind == "rack_aware_fetch"] == []
    realized = realized_savings(rec.to_dict(), model, after)
    assert realized.applied
    assert realized.realized is not None
    assert abs(realized.realized.amount - rec.monthly_savings.amount) <= 0.01


def test_selector_off_gives_one_broker_change_naming_the_groups() -> None:
    model = model_of(snapshot(False, {1: IN / 3, 2: IN / 3, 3: IN / 3}))
    [rec] = [r for r in run_rules(model, History.empty(), {
        "rack_aware_fetch": {"min_monthly_savings": 0.01}}).recommendations
        if r.kind == "rack_aware_fetch"]
    assert rec.target_type == "cluster"
    assert list(rec.proposed["groups"]) == ["billing"]
    assert rec.proposed["replica.selector.class"] == RACK_AWARE_SELECTOR


def test_the_configured_override_decides_the_advice_over_the_brokers_setting() -> None:
    """`clusters[].rack_aware_fetch: false` where the brokers report the selector: the cost
    model prices leader reads, so the advice is the cluster change, as the override says."""
    overridden = replace(snapshot(True, {1: IN / 3, 2: IN / 3, 3: IN / 3}),
                         rack_aware_fetch=False)
    [rec] = [r for r in run_rules(model_of(overridden), History.empty(), {
        "rack_aware_fetch": {"min_monthly_savings": 0.01}}).recommendations
        if r.kind == "rack_aware_fetch"]
    assert rec.target_type == "cluster"


def test_client_rack_needs_a_group() -> None:
    with pytest.raises(ValueError, match=r"client_rack needs selector\.group"):
        Change(selector=Selector(cluster="c1"), client_rack=True)
