"""Cost allocation against figures computed by hand (docs/cost-model.md, "A worked example")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costopt.cost import COMPONENTS, IDLE, UNALLOCATED, AllocationSettings, allocate
from costopt.prices import load_builtin_catalog
from tests.fixtures_cost import worked_example_cluster


def dollars(cost: object, topic: str, component: str) -> Decimal:
    return cost.cost_of(topic)[component].amount  # type: ignore[attr-defined]


def test_worked_example_on_aws_self_managed() -> None:
    cost = allocate(worked_example_cluster(), load_builtin_catalog("aws-self-managed"))
    orders = "payments.orders.v1"
    # 100 GiB × RF 3 × $0.08/GiB-month
    assert dollars(cost, orders, "storage_local") == Decimal("24")
    # 1 MiB/s × (RF-1) × 2,628,000 s / 1024 × $0.02 (3 zones, RF 3: every follower crosses)
    assert dollars(cost, orders, "network_replication") == Decimal("102.65625")
    # 1 MiB/s in × 2/3 cross-zone × $0.02
    assert dollars(cost, orders, "network_producer") == Decimal("34.21875")
    # 2 MiB/s out × 2/3 × $0.02
    assert dollars(cost, orders, "network_consumer") == Decimal("68.4375")
    # brokers 3 × $0.096 × 730 = $210.24; used 30% → $63.072 to share;
    # orders: 0.5 × 3/4 of throughput + 0.5 × 1/2 of partition replicas = 0.625
    assert dollars(cost, orders, "compute") == Decimal("39.42")
    assert dollars(cost, "search.clicks", "compute") == Decimal("23.652")
    assert dollars(cost, IDLE, "compute") == Decimal("147.168")
    # Disks: 3,000 GiB × $0.08 = $240; 2,100 GiB unused = $168 idle;
    # 900 GiB used − 300 GiB of topic logs = 600 GiB unallocated = $48.
    assert cost.bill_micros["storage_local"] == 240_000_000
    assert dollars(cost, IDLE, "storage_local") == Decimal("168")
    assert dollars(cost, UNALLOCATED, "storage_local") == Decimal("48")
    assert cost.cost_of(orders)["total"].amount == Decimal("268.7325")
    assert cost.bill.currency == "USD" and cost.bill.period == "month"


def test_rows_add_up_to_the_bill_per_component() -> None:
    cost = allocate(worked_example_cluster(), load_builtin_catalog("aws-self-managed"))
    for component in COMPONENTS:
        assert int(cost.rows[f"{component}_micros"].sum()) == cost.bill_micros[component]
    assert int(cost.rows["monthly_cost_micros"].sum()) == sum(cost.bill_micros.values())


def test_rack_aware_fetching_removes_consumer_cross_zone_cost() -> None:
    cost = allocate(worked_example_cluster(rack_aware_fetch=True),
                    load_builtin_catalog("aws-self-managed"))
    assert dollars(cost, "payments.orders.v1", "network_consumer") == 0


def test_single_zone_has_no_cross_zone_traffic() -> None:
    cost = allocate(worked_example_cluster(racks=("a", "a", "a")),
                    load_builtin_catalog("aws-self-managed"))
    for component in ("network_replication", "network_producer", "network_consumer"):
        assert dollars(cost, "payments.orders.v1", component) == 0


def test_msk_does_not_bill_replication_and_prices_its_own_brokers() -> None:
    cost = allocate(worked_example_cluster("kafka.m5.large"), load_builtin_catalog("aws-msk"))
    assert dollars(cost, "payments.orders.v1", "network_replication") == 0
    assert dollars(cost, "payments.orders.v1", "storage_local") == Decimal("30")  # 300 × 0.10
    assert cost.bill_micros["compute"] == 3 * 210_000 * 730  # 3 × $0.21 × 730 h, in micros


def test_confluent_bills_logical_bytes_and_metered_ingress_egress() -> None:
    cost = allocate(worked_example_cluster("eCKU", racks=("a",)),
                    load_builtin_catalog("confluent-cloud"))
    orders = "payments.orders.v1"
    assert dollars(cost, orders, "storage_local") == Decimal("8")  # 100 GiB × $0.08, one copy
    assert dollars(cost, IDLE, "storage_local") == 0  # billed as used: nothing idle
    # 2,566.40625 GiB written × $0.05 = 128.3203125, held in micro-units (half-even rounding);
    # 5,132.8125 GiB read × $0.05
    assert dollars(cost, orders, "network_producer") == Decimal("128.320312")
    assert dollars(cost, orders, "network_consumer") == Decimal("256.640625")


def test_on_prem_uses_decimal_gigabytes_and_no_metered_network() -> None:
    cost = allocate(worked_example_cluster("server.standard"), load_builtin_catalog("on-prem"))
    orders = "payments.orders.v1"
    # 300 GiB = 322.1225472 GB × $0.015
    assert dollars(cost, orders, "storage_local") == Decimal("4.831838")
    assert dollars(cost, orders, "network_replication") == 0


@pytest.mark.parametrize("name,instance", [("gcp-self-managed", "n2-standard-4"),
                                           ("azure-self-managed", "Standard_D4s_v5")])
def test_other_clouds_price_compute_and_disks_from_their_catalog(name: str, instance: str) -> None:
    catalog = load_builtin_catalog(name)
    cost = allocate(worked_example_cluster(instance), catalog)
    expected_compute = catalog.compute_per_hour[instance] * 3 * 730
    assert cost.bill.amount >= expected_compute
    assert Decimal(cost.bill_micros["compute"]) / 1_000_000 == expected_compute
    # The topic holds 100 GiB (one replica) of each of the three brokers' 1,000 GiB disks: that
    # share of the disks' bill, which is per GB, or (Azure Premium SSD) the size tier each disk
    # falls in, P30 for 1 TiB.
    tiers = catalog.disk_tiers(None)
    if tiers is None:
        expected_storage = 300 * catalog.block_storage_per_gb_month
    else:
        tier_price = next(price for size, price in tiers if size >= 1000 * 1024**3)
        expected_storage = Decimal(100) / 1000 * tier_price * 3
    assert dollars(cost, "payments.orders.v1", "storage_local") == expected_storage


def test_compute_weights_are_configurable() -> None:
    by_throughput = AllocationSettings(compute_weight_throughput=1, compute_weight_partitions=0)
    cost = allocate(worked_example_cluster(), load_builtin_catalog("aws-self-managed"),
                    settings=by_throughput)
    assert dollars(cost, "payments.orders.v1", "compute") == Decimal("47.304")  # 3/4 of 63.072


def test_weights_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match="must be 1"):
        AllocationSettings(compute_weight_throughput=0.7, compute_weight_partitions=0.7)


def test_unknown_instance_type_names_it() -> None:
    with pytest.raises(ValueError, match=r"no price for instance type 'm9\.huge'"):
        allocate(worked_example_cluster("m9.huge"), load_builtin_catalog("aws-self-managed"))
