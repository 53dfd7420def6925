"""The `lane` change: what each lane changes, by hand; where a lane is refused and why; and
that a lane price changed in a catalog file moves the figure as docs/cost-model.md's formula
("Lanes") says."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources

import pytest
from pydantic import ValidationError

from costopt.base.errors import InvalidInput
from costopt.cost.allocation import allocate
from costopt.cost.cluster_model import ClusterModel
from costopt.prices.catalog import PriceCatalog, load_builtin_catalog, parse_catalog
from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot, Topic
from costopt.whatif import Change, Selector, run_whatif
from tests.fleets import analyzed

GIB = 1024**3
MIB = 1024**2
MONTH_SECONDS = 730 * 3600


def _models(catalog: PriceCatalog) -> dict[str, ClusterModel]:
    """3 brokers over 3 zones; one topic of 10 MiB/s in, 30 MiB/s out, a day kept."""
    snapshot = ClusterSnapshot(
        cluster="east", taken_at=datetime(2026, 12, 1, tzinfo=UTC), window_seconds=3600,
        brokers=tuple(Broker(broker_id=i, rack=rack, instance_type="m7g.xlarge",
                             disk_capacity_bytes=2048 * GIB) for i, rack in enumerate("abc")),
        topics=(Topic(name="clicks", partitions=12, replication_factor=3,
                      retention_ms=86_400_000, bytes_in_per_second=10 * MIB,
                      bytes_out_per_second=30 * MIB, log_size_bytes=10 * MIB * 86_400),))
    return {"east": ClusterModel(snapshot, catalog, allocate(snapshot, catalog), {}, {})}


def _catalog_with(line: str, value: str) -> PriceCatalog:
    """The built-in aws-self-managed catalog file with one line's price changed."""
    text = resources.files("costopt.prices").joinpath(
        "catalogs/aws-self-managed.yaml").read_text()
    lines = text.splitlines()
    at = next(i for i, row in enumerate(lines) if row.startswith(f"{line}:"))
    lines[at] = f"{line}: {value}"
    return parse_catalog("\n".join(lines), "aws-self-managed (edited)")


DISKLESS = Change(selector=Selector(topic="clicks"), lane="diskless")


def _object_cost(catalog: PriceCatalog) -> Decimal:
    result = run_whatif(_models(catalog), [DISKLESS])
    return result.projected_by_component["storage_tiered"].amount


def test_a_put_price_change_moves_the_diskless_figure_as_the_formula_says() -> None:
    """PUTs = brokers × month seconds × 1000 / batch interval (ms), all of them this topic's
    (it writes all the bytes); each of 3 zones GETs each object once."""
    before = _object_cost(load_builtin_catalog("aws-self-managed"))
    after = _object_cost(_catalog_with("object_put_per_1000", "0.0105"))
    puts = 3 * MONTH_SECONDS * 1000 / 250
    assert float(after - before) == pytest.approx(puts / 1000 * (0.0105 - 0.005), abs=0.01)


def test_an_object_storage_price_change_moves_it_by_one_copy_of_the_log() -> None:
    before = _object_cost(load_builtin_catalog("aws-self-managed"))
    after = _object_cost(_catalog_with("object_storage_per_gb_month", "0.046"))
    one_copy_gib = 10 * MIB * 86_400 / GIB
    assert float(after - before) == pytest.approx(one_copy_gib * 0.023, abs=0.01)


def test_a_longer_batch_interval_means_fewer_puts() -> None:
    catalog = load_builtin_catalog("aws-self-managed")
    slower = catalog.model_copy(update={"diskless_batch_interval_ms": 1000.0})
    saved = _object_cost(catalog) - _object_cost(slower)
    puts_saved = 3 * MONTH_SECONDS * (4 - 1)
    expected = puts_saved / 1000 * (0.005 + 3 * 0.0004)
    assert float(saved) == pytest.approx(expected, abs=0.01)


def test_diskless_removes_replication_and_cross_zone_client_traffic() -> None:
    result = run_whatif(_models(load_builtin_catalog("aws-self-managed")), [DISKLESS])
    projected = result.projected_by_component
    coordination = 10 * MIB * 1.4 / 1024 * MONTH_SECONDS / GIB * 0.02
    assert float(projected["network_replication"].amount) == pytest.approx(coordination,
                                                                             abs=0.01)
    assert projected["network_producer"].amount == 0
    assert projected["network_consumer"].amount == 0
    capacity = result.capacity[0]
    assert capacity.disk_bytes_freed == pytest.approx(3 * 10 * MIB * 86_400)


def test_classic_and_tiered_lanes_are_tiering_off_and_on() -> None:
    models = _models(load_builtin_catalog("aws-self-managed"))
    tiered = run_whatif(models, [Change(selector=Selector(topic="clicks"), lane="tiered",
                                        local_retention_ms=3_600_000)])
    alias = run_whatif(models, [Change(selector=Selector(topic="clicks"), tiered_storage=True,
                                       local_retention_ms=3_600_000)])
    assert tiered.projected == alias.projected and tiered.delta.amount != 0
    back = run_whatif(models, [DISKLESS, Change(selector=Selector(topic="clicks"),
                                                lane="classic")])
    assert back.projected == back.baseline


def test_lanes_the_offering_has_not_are_refused_naming_the_cluster() -> None:
    analysis = analyzed("small")
    msk = next(m for m in analysis.models.values() if m.catalog.kind == "msk")
    own = next(m for m in analysis.models.values() if m.catalog.kind == "self_managed")
    with pytest.raises(InvalidInput, match=f"{msk.cluster}.*no diskless topics"):
        run_whatif(analysis.models, [Change(selector=Selector(
            cluster=msk.cluster, topic=msk.snapshot.topics[0].name), lane="diskless")])
    with pytest.raises(InvalidInput, match=f"{own.cluster}.*not on Amazon MSK"):
        run_whatif(analysis.models, [Change(selector=Selector(cluster=own.cluster),
                                            lane="express")], resolve_catalog=load_builtin_catalog)
    with pytest.raises(ValidationError, match="change a whole cluster"):
        Change(selector=Selector(topic="x"), lane="express")
    with pytest.raises(ValidationError, match="contradicts"):
        Change(selector=Selector(topic="x"), lane="diskless", tiered_storage=True)


def test_express_bills_bytes_written_and_one_stored_copy_with_rf_3() -> None:
    analysis = analyzed("small")
    msk = next(m for m in analysis.models.values() if m.catalog.kind == "msk")
    result = run_whatif(analysis.models, [Change(selector=Selector(cluster=msk.cluster),
                                                 lane="express")],
                        resolve_catalog=load_builtin_catalog)
    express = load_builtin_catalog("aws-msk-express")
    columns = msk.columns
    written_gib = float(columns["bytes_in_per_second"].sum()) * MONTH_SECONDS / GIB
    stored_gib = float((columns["log_size_bytes"] + columns["remote_log_size_bytes"]).sum()) / GIB
    projected = result.projected_by_component
    baseline = result.baseline_by_component
    assert float((projected["network_producer"] - baseline["network_producer"]).amount) == \
        pytest.approx(written_gib * float(express.ingress_per_gb), rel=1e-4)
    # No provisioned volume: the cluster's disk bill becomes one copy of what it stores.
    assert float(projected["storage_local"].amount - baseline["storage_local"].amount) == \
        pytest.approx(stored_gib * float(express.block_storage_per_gb_month)
                      - msk.cost.bill_micros["storage_local"] / 1e6, rel=1e-4)
    # Express has no tiering: the cluster's tier bill goes (its bytes are stored above).
    assert (projected["storage_tiered"] - baseline["storage_tiered"]).amount == \
        -Decimal(msk.cost.bill_micros["storage_tiered"]) / 10**6


def test_freight_is_refused_while_its_price_could_not_be_sourced() -> None:
    """The built-in confluent-cloud catalog carries Basic's rate for eCKU.freight as a stand-in,
    marked unverified: the lane says a price could not be sourced rather than price it."""
    analysis = analyzed("confluent")
    cluster = next(iter(analysis.models))
    with pytest.raises(InvalidInput, match="could not be sourced"):
        run_whatif(analysis.models, [Change(selector=Selector(cluster=cluster), lane="freight")],
                   resolve_catalog=load_builtin_catalog)


def test_freight_is_priced_once_its_line_is_verified() -> None:
    """With the eCKU.freight line marked verified (a contract's rate, say), the lane moves the
    cluster onto Freight eCKUs: the units its load needs (the most of bytes in per 60 MB/s,
    bytes out per 180 MB/s and partitions per 1,500, whole), at the line's hourly rate."""
    from costopt.cost import formulas

    analysis = analyzed("confluent")
    name, model = next((n, m) for n, m in analysis.models.items()
                       if m.snapshot.brokers[0].instance_type.startswith("eCKU"))
    listed = load_builtin_catalog("confluent-cloud")
    catalog = listed.model_copy(update={"verification": {
        **listed.verification,
        "compute_per_hour[eCKU.freight]": "verified: a test contract, 2026-12-07"}})
    snapshot = model.snapshot
    models = {name: ClusterModel(snapshot, catalog, allocate(snapshot, catalog), {}, {})}
    result = run_whatif(models, [Change(selector=Selector(cluster=name), lane="freight")],
                        resolve_catalog=load_builtin_catalog)
    topics = snapshot.topics
    units = formulas.elastic_units_needed(
        sum(t.bytes_in_per_second for t in topics), sum(t.bytes_out_per_second for t in topics),
        sum(t.partitions for t in topics), 60e6, 180e6, 1500, 0)
    expected = units * float(catalog.compute_per_hour["eCKU.freight"]) * 730
    assert expected > 0
    assert float(result.projected_by_component["compute"].amount) == pytest.approx(
        expected, abs=0.01)


def test_a_freight_line_is_sourced_when_its_mark_names_a_source() -> None:
    from costopt.whatif.lanes import freight_price_source

    listed = load_builtin_catalog("confluent-cloud")
    assert freight_price_source(listed) is None

    def marked(mark: str) -> PriceCatalog:
        return listed.model_copy(update={"verification": {
            **listed.verification, "compute_per_hour[eCKU.freight]": mark}})

    assert freight_price_source(marked("unverified: Confluent pricing page copy, secondary"))
    assert freight_price_source(marked("unverified: not sourced, Basic's rate")) is None
