"""Prices as users pay them: regions, discounts, disk types, tiered requests and retrieval,
egress that leaves the region, MSK (Standard, Express, Serverless), Confluent's elastic eCKUs
and Google Cloud Managed Kafka's DCUs. Every expected figure is worked out by hand in the
test from the catalog's published prices, never taken from the code's output."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from costopt.base.money import MICROS_PER_UNIT
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED, allocate, project
from costopt.prices import CatalogError, load_builtin_catalog, load_catalog
from costopt.prices.catalog import catalog_ref, resolve_catalog, split_ref
from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot, ConsumerGroup, Topic
from costopt.snapshot.labels import CROSS_REGION_EGRESS_LABEL, INTERNET_EGRESS_LABEL
from tests.fixtures_cost import GIB, MIB, worked_example_cluster

HOUR_MS = 3_600_000
SECONDS_PER_MONTH = 730 * 3600  # 2,628,000


def micros(amount: str) -> int:
    """A hand-computed amount in exact micro-units."""
    return int(Decimal(amount) * MICROS_PER_UNIT)


def reconciles(cost) -> bool:  # type: ignore[no-untyped-def]
    rows = cost.rows
    return all(int(rows[f"{c}_micros"].sum()) == cost.bill_micros[c] for c in COMPONENTS)


def cluster(brokers: tuple[Broker, ...], topics: tuple[Topic, ...],
            groups: tuple[ConsumerGroup, ...] = (), rack_aware_fetch: bool = False,
            labels: dict[str, str] | None = None) -> ClusterSnapshot:
    return ClusterSnapshot(cluster="c1", taken_at=datetime(2026, 11, 1, tzinfo=UTC),
                           window_seconds=3600, brokers=brokers, topics=topics, groups=groups,
                           rack_aware_fetch=rack_aware_fetch, labels=labels or {})


def brokers_of(instance_type: str, count: int, disk_gib: float,
               **extra: object) -> tuple[Broker, ...]:
    return tuple(Broker(broker_id=i, rack="abc"[i % 3], instance_type=instance_type,
                        disk_capacity_bytes=int(disk_gib * GIB), cpu_utilisation=0.3,
                        **extra)  # type: ignore[arg-type]
                 for i in range(count))


# --- AWS's own MSK sizing calculator, to the cent -------------------------------------------

def test_msk_sizing_calculator_case_to_the_cent() -> None:
    """aws/agent-toolkit-for-aws msk_sizing.py, us-east-1: 20 MiB/s in (40 peak), 40 MiB/s out
    (80 peak), 600 partition replicas, 168 h retention of which 24 h on broker disks. It sizes
    9 x kafka.m7g.large with 10,125 GiB of disk and prices it at 3,270.03 USD/month:

    brokers    9 x 0.204 x 730                                          = 1,340.28
    storage    10,125 GiB x 0.10                                        = 1,012.50
    tiered     20 MiB/s x 144 h = 10,125 GiB x 0.023                    =   232.875
    cross-AZ   20 MiB/s x 2,628,000 s = 51,328.125 GiB x 2/3 x 0.02     =   684.375
               (producers only: consumers fetch from their own zone; replication free)
    total                                                                = 3,270.03
    """
    bytes_in = 20 * MIB
    topic = Topic(name="orders", partitions=200, replication_factor=3,
                  retention_ms=168 * HOUR_MS, remote_storage_enable=True,
                  local_retention_ms=24 * HOUR_MS, bytes_in_per_second=bytes_in,
                  bytes_out_per_second=40 * MIB,
                  log_size_bytes=int(bytes_in * 24 * 3600),  # 1,687.5 GiB per replica
                  remote_log_size_bytes=int(bytes_in * 144 * 3600))  # 10,125 GiB
    snapshot = cluster(brokers_of("kafka.m7g.large", 9, 10_125 / 9), (topic,),
                       rack_aware_fetch=True)
    cost = allocate(snapshot, resolve_catalog("aws-msk@us-east-1"))
    assert cost.bill_micros == {
        "compute": micros("1340.28"), "storage_local": micros("1012.50"),
        "storage_tiered": micros("232.875"), "network_replication": 0,
        "network_producer": micros("684.375"), "network_consumer": 0, "partitions": 0,
        "cluster_linking": 0}
    assert cost.bill_total_micros == micros("3270.03")
    assert str(cost.bill.amount.quantize(Decimal("0.01"))) == "3270.03"
    assert reconciles(cost)


def test_msk_provisioned_storage_throughput_is_billed_per_mibps_month() -> None:
    """The same brokers with 250 MiB/s of provisioned storage throughput each: 9 x 250 x 0.08
    = 180.00 more on storage."""
    brokers = brokers_of("kafka.m7g.large", 9, 1125, provisioned_throughput_mibps=250.0)
    topic = Topic(name="t", partitions=3, replication_factor=3)
    cost = allocate(cluster(brokers, (topic,)), resolve_catalog("aws-msk"))
    assert cost.bill_micros["storage_local"] == micros("1012.50") + micros("180.00")


# --- Regions ---------------------------------------------------------------------------------

def test_a_cluster_is_priced_in_its_own_region() -> None:
    """3 x m5.large with 1,000 GiB gp3 each in eu-west-1: 3 x 0.107 x 730 = 234.33 compute and
    3,000 GiB x 0.088 = 264.00 disk (us-east-1 would be 210.24 and 240.00)."""
    cost = allocate(worked_example_cluster(), resolve_catalog("aws-self-managed@eu-west-1"))
    assert cost.bill_micros["compute"] == micros("234.33")
    assert cost.bill_micros["storage_local"] == micros("264.00")
    home = allocate(worked_example_cluster(), resolve_catalog("aws-self-managed"))
    assert home.bill_micros["compute"] == micros("210.24")
    assert reconciles(cost)


def test_every_region_names_its_source_and_date_and_unknown_regions_are_refused() -> None:
    catalog = resolve_catalog("aws-msk@ap-southeast-1")
    assert catalog.region == "ap-southeast-1" and "ap-southeast-1" in catalog.source
    assert catalog.internet_egress_per_gb == Decimal("0.12")
    assert catalog.compute_price_per_hour("kafka.m5.2xlarge") == Decimal("1.052")
    with pytest.raises(CatalogError, match=r"no prices for region 'eu-north-1'.*eu-west-1"):
        resolve_catalog("aws-msk@eu-north-1")
    for name, regions in {"aws-self-managed": 5, "aws-msk": 5, "gcp-self-managed": 2,
                          "azure-self-managed": 2, "gcp-managed-kafka": 2}.items():
        assert len(load_builtin_catalog(name).known_regions) >= regions, name


def test_catalog_refs_carry_the_region() -> None:
    assert catalog_ref("aws-msk", "eu-west-1") == "aws-msk@eu-west-1"
    assert catalog_ref("aws-msk", None) == "aws-msk"
    assert split_ref("aws-msk@eu-west-1") == ("aws-msk", "eu-west-1")
    assert split_ref("/home/me@corp/prices.yaml") == ("/home/me@corp/prices.yaml", None)


def test_a_region_must_state_its_compute_prices(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2]
            / "costopt/prices/catalogs/on-prem.yaml").read_text()
    path = tmp_path / "dc.yaml"
    path.write_text(text + "regions:\n  datacenter-2:\n    source: our books\n"
                    "    as_of: 2026-11-01\n")
    with pytest.raises(CatalogError, match=r"regions\.datacenter-2.*compute prices"):
        load_catalog(path)


def test_current_instance_families_are_priced() -> None:
    catalog = resolve_catalog("aws-self-managed")
    for instance, price in {"m7g.large": "0.0816", "r7i.large": "0.1323",
                            "i4i.large": "0.172", "im4gn.large": "0.18196"}.items():
        assert catalog.compute_price_per_hour(instance) == Decimal(price)
    cost = allocate(worked_example_cluster("m7g.large"), catalog)
    assert cost.bill_micros["compute"] == micros("178.704")  # 3 x 0.0816 x 730


# --- Discounts -------------------------------------------------------------------------------

def test_discounts_by_line_and_by_component_compound(tmp_path: Path) -> None:
    """10% off everything (an EDP), 20% more off instances (a savings plan), 40% off the
    producer side's network. On the worked example:
    compute   3 x 0.096 x 0.9 x 0.8 x 730            = 151.3728
    disk      3,000 GiB x 0.08 x 0.9                 = 216.00
    producer  2,566.40625 GiB x 2/3 x 0.02 x 0.9 x 0.6 = 18.478125 per topic."""
    text = (Path(__file__).resolve().parents[2]
            / "costopt/prices/catalogs/aws-self-managed.yaml").read_text()
    path = tmp_path / "ours.yaml"
    path.write_text(text.replace("regions:\n", "discount_pct: {all: 10, compute_per_hour: 20, "
                                 "network_producer: 40}\nregions:\n", 1))
    cost = allocate(worked_example_cluster(), resolve_catalog(str(path)))
    assert cost.bill_micros["compute"] == micros("151.3728")
    assert cost.bill_micros["storage_local"] == micros("216.00")
    assert cost.cost_of("payments.orders.v1")["network_producer"].amount == Decimal("18.478125")
    assert reconciles(cost)
    # The region is chosen from list prices first, then the same discounts apply.
    euw1 = allocate(worked_example_cluster(), resolve_catalog(f"{path}@eu-west-1"))
    assert euw1.bill_micros["compute"] == micros("168.7176")  # 3 x 0.107 x 0.72 x 730


def test_a_discount_naming_nothing_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2]
            / "costopt/prices/catalogs/on-prem.yaml").read_text()
    path = tmp_path / "dc.yaml"
    path.write_text(text + "discount_pct: {brokers: 10}\n")
    with pytest.raises(CatalogError, match="brokers"):
        load_catalog(path)
    path.write_text(text + "discount_pct: {all: 100}\n")
    with pytest.raises(CatalogError, match="discount_pct"):
        load_catalog(path)


# --- Disks, tiered storage, egress -----------------------------------------------------------

def test_volume_types_are_priced_per_volume() -> None:
    """Two 1,000 GiB gp3 volumes and one 2,000 GiB st1 in us-east-1: 2,000 x 0.08 + 2,000 x
    0.045 = 250.00; the topics' bytes at the mean price 250 / 4,000 = 0.0625 per GiB, so 100 GiB
    x RF 3 = 18.75."""
    snapshot = worked_example_cluster()
    brokers = (replace(snapshot.brokers[0], volume_type="gp3"),
               replace(snapshot.brokers[1], volume_type="gp3"),
               replace(snapshot.brokers[2], volume_type="st1", disk_capacity_bytes=2000 * GIB))
    cost = allocate(replace(snapshot, brokers=brokers), resolve_catalog("aws-self-managed"))
    assert cost.bill_micros["storage_local"] == micros("250.00")
    assert cost.cost_of("payments.orders.v1")["storage_local"].amount == Decimal("18.75")
    assert reconciles(cost)
    with pytest.raises(CatalogError, match=r"volume type 'io9'.*gp3, sc1, st1"):
        allocate(replace(snapshot, brokers=(replace(snapshot.brokers[0], volume_type="io9"),)),
                 resolve_catalog("aws-self-managed"))


def test_tiered_storage_pays_for_requests_estimated_from_segment_size() -> None:
    """1 MiB/s into a tiered topic with 512 MiB segments: 2,628,000 MiB a month = 5,132.8125
    segments x 5 objects = 25,664.0625 PUTs x 0.005/1,000 = 0.1283203125. A weekly reader (lag
    up to 7 days, 24 h local) reads 6/7 of its 1 MiB/s from the tier: 5,132.8125 x 6/7 =
    4,399.5535714 segment GETs x 0.0004/1,000 = 0.0017598214. Plus 1,000 GiB x 0.023 = 23.00.
    Total 23.1300801339 -> 23.130080."""
    topic = Topic(name="audit.events", partitions=6, replication_factor=3,
                  retention_ms=30 * 24 * HOUR_MS, remote_storage_enable=True,
                  local_retention_ms=24 * HOUR_MS, segment_bytes=512 * MIB,
                  bytes_in_per_second=MIB, bytes_out_per_second=MIB,
                  log_size_bytes=84_375 * MIB, remote_log_size_bytes=1000 * GIB)
    weekly = ConsumerGroup(group="audit-weekly", topic="audit.events",
                           max_lag_seconds=7 * 86_400.0, bytes_out_per_second=float(MIB))
    snapshot = cluster(brokers_of("m5.large", 3, 1000), (topic,), (weekly,))
    cost = allocate(snapshot, resolve_catalog("aws-self-managed"))
    assert cost.bill_micros["storage_tiered"] == 23_130_080
    # MSK bills no requests but charges retrieval: 4,399.5535714 x 0.5 GiB = 2,199.7767857
    # GiB x 0.0015 = 3.2996652 on top of 1,000 GiB x 0.023.
    msk = allocate(replace(snapshot, brokers=brokers_of("kafka.m5.large", 3, 1000)),
                   resolve_catalog("aws-msk"))
    assert msk.bill_micros["storage_tiered"] == micros("23.00") + 3_299_665


def test_egress_leaving_the_region_is_priced_where_it_leaves() -> None:
    """A quarter of payments' 2 MiB/s out goes to the internet and a quarter to another
    region: 5,132.8125 GiB x (0.5 x 2/3 x 0.02 + 0.25 x 0.09 + 0.25 x 0.02) = 34.21875 +
    115.48828125 + 25.6640625 = 175.37109375."""
    snapshot = replace(worked_example_cluster(), labels={INTERNET_EGRESS_LABEL: "0.25",
                                                         CROSS_REGION_EGRESS_LABEL: "0.25"})
    cost = allocate(snapshot, resolve_catalog("aws-self-managed"))
    assert cost.cost_of("payments.orders.v1")["network_consumer"].amount == \
        Decimal("175.371094")  # to the micro-unit
    assert reconciles(cost)


# --- Other products --------------------------------------------------------------------------

def test_msk_express_bills_one_copy_stored_and_each_gb_written() -> None:
    """3 x express.m7g.large: 3 x 0.408 x 730 = 893.52; 100 GiB stored once x 0.10 = 10.00;
    2,566.40625 GiB written x (0.01 + 2/3 x 0.02) = 25.6640625 + 34.21875 = 59.8828125."""
    topic = Topic(name="t", partitions=6, replication_factor=3, bytes_in_per_second=MIB,
                  log_size_bytes=100 * GIB)
    cost = allocate(cluster(brokers_of("express.m7g.large", 3, 0.001), (topic,)),
                    resolve_catalog("aws-msk-express"))
    assert cost.bill_micros["compute"] == micros("893.52")
    assert cost.bill_micros["storage_local"] == micros("10.00")
    assert cost.bill_micros["network_producer"] == micros("59.8828125")
    assert reconciles(cost)


def test_msk_serverless_bills_cluster_and_partition_hours_and_gib_in_and_out() -> None:
    """0.75 x 730 = 547.50 a cluster; 10 partitions x 0.0015 x 730 = 10.95; 100 GiB x 0.10 =
    10.00; 2,566.40625 GiB in x 0.10 = 256.640625; 5,132.8125 GiB out x 0.05 = 256.640625."""
    topic = Topic(name="t", partitions=10, replication_factor=3, bytes_in_per_second=MIB,
                  bytes_out_per_second=2 * MIB, log_size_bytes=100 * GIB)
    cost = allocate(cluster(brokers_of("serverless", 3, 0.001), (topic,)),
                    resolve_catalog("aws-msk-serverless"))
    assert cost.bill_micros == {
        "compute": micros("547.50"), "partitions": micros("10.95"),
        "storage_local": micros("10.00"), "storage_tiered": 0, "network_replication": 0,
        "network_producer": micros("256.640625"), "network_consumer": micros("256.640625"),
        "cluster_linking": 0}


def test_confluent_ecku_capacity_is_elastic_with_the_first_unit_free() -> None:
    """30 MB/s in needs 30/25 -> 2 eCKUs (60 MB/s out needs 0.8, 100 partitions 0.07); the
    first is free on Basic: 1 x 0.14 x 730 = 102.20. At 10 MB/s in one eCKU does: nothing to
    pay. Elastic capacity follows the load in a projection, unlike brokers: by the topics'
    shares of the bill (eCKU-hours over a month track the load)."""
    topics = (Topic(name="a", partitions=60, replication_factor=3,
                    bytes_in_per_second=20e6, bytes_out_per_second=40e6),
              Topic(name="b", partitions=40, replication_factor=3,
                    bytes_in_per_second=10e6, bytes_out_per_second=20e6))
    cost = allocate(cluster(brokers_of("eCKU", 1, 0.001), topics),
                    resolve_catalog("confluent-cloud"))
    assert cost.bill_micros["compute"] == micros("102.20")
    rows = cost.rows.set_index("topic")
    assert int(rows.loc[IDLE, "compute_micros"]) == 0
    assert int(rows.loc[UNALLOCATED, "compute_micros"]) == 0
    # a: 0.5 x 60/90 (throughput) + 0.5 x 60/100 (partition replicas) = 0.6333... of 102.20
    assert int(rows.loc["a", "compute_micros"]) == round(102.20 * (0.5 * 60 / 90 + 0.5 * 0.6)
                                                         * MICROS_PER_UNIT)
    assert allocate(cluster(brokers_of("eCKU", 1, 0.001), tuple(
        replace(t, bytes_in_per_second=5e6) for t in topics)),
        resolve_catalog("confluent-cloud")).bill_micros["compute"] == 0
    columns = dict(cost.columns)
    columns["bytes_in_per_second"] = np.array([5e6, 5e6])
    # Throughput 70 of 90 MB/s, partition replicas unchanged: 0.5 x 70/90 + 0.5 of the bill.
    projected = project(cost, columns).bill_micros["compute"]
    assert abs(projected - 102.20 * (0.5 * 70 / 90 + 0.5) * MICROS_PER_UNIT) <= 2
    # Dedicated CKUs stay provisioned capacity, broker count x price.
    dedicated = allocate(cluster(brokers_of("CKU", 2, 0.001), topics),
                         resolve_catalog("confluent-cloud"))
    assert dedicated.bill_micros["compute"] == micros("2190.00")  # 2 x 1.50 x 730


def test_gcp_managed_kafka_bills_dcu_hours_from_vcpus_and_memory() -> None:
    """A broker of 3 vCPUs and 12 GiB is 3 x 0.6 + 12 x 0.1 = 3.0 DCUs; three of them at
    0.09 per DCU-hour: 9 x 0.09 x 730 = 591.30 (europe-west1 at 0.099: 650.43). Local disks
    3 x 100 GiB x 0.17 = 51.00."""
    topic = Topic(name="t", partitions=3, replication_factor=3)
    snapshot = cluster(brokers_of("3vcpu-12gib", 3, 100), (topic,))
    cost = allocate(snapshot, resolve_catalog("gcp-managed-kafka"))
    assert cost.bill_micros["compute"] == micros("591.30")
    assert cost.bill_micros["storage_local"] == micros("51.00")
    euw1 = allocate(snapshot, resolve_catalog("gcp-managed-kafka@europe-west1"))
    assert euw1.bill_micros["compute"] == micros("650.43")
    with pytest.raises(CatalogError, match="vcpu-<GiB>gib"):
        allocate(cluster(brokers_of("n2-standard-4", 3, 100), (topic,)),
                 resolve_catalog("gcp-managed-kafka"))
