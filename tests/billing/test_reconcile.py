"""Reconciliation: each format's bill against the estimate, the billed total allocated to the
micro-unit, unattributable lines where configured; and the `small` demo fleet with a bill 7%
above the estimate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costopt.analyze.analysis import FleetAnalysis, analyze_store, cached_analysis
from costopt.billing.importer import import_bill
from costopt.billing.month import month_estimates, reconcile
from costopt.billing.reconcile import (
    BILLED,
    ESTIMATED,
    Estimate,
    Month,
    MonthAllocation,
    allocate_month,
)
from costopt.billing.sample import generated_bill
from costopt.config import ReportSettings, Settings
from costopt.cost.allocation import IDLE, UNALLOCATED
from costopt.cost.chargeback import AMOUNT_COLUMNS
from costopt.prices import load_builtin_catalog
from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from costopt.store.bills import BillStore
from reports.weekly import write_report
from tests.billing.conftest import SAMPLES, settings_for, snapshot_of
from tests.fleets import fleet

NOVEMBER = Month.parse("2026-11")


def _reconciled(store: Store, name: str, **allocation: object
                ) -> tuple[FleetAnalysis, MonthAllocation]:
    settings = settings_for(store.url, **allocation)
    import_bill(store, settings, (SAMPLES / name).read_bytes(), name)
    analysis = analyze_store(store, settings)
    return analysis, reconcile(analysis, store, settings, NOVEMBER)


def _cluster_rows(allocation: MonthAllocation, cluster: str) -> pd.DataFrame:
    return allocation.rows[allocation.rows["cluster"] == cluster]


def _assert_exact(allocation: MonthAllocation) -> None:
    """Rows add up to each cluster's bill (or prorated estimate) to the micro-unit, and each
    row's parts to its total."""
    for result in allocation.clusters:
        rows = _cluster_rows(allocation, result.cluster)
        assert int(rows["monthly_cost_micros"].sum()) == result.total_micros, result.cluster
        assert set(rows["basis"]) == {result.basis}
    assert (allocation.rows[AMOUNT_COLUMNS].sum(axis=1)
            == allocation.rows["monthly_cost_micros"]).all()


@pytest.mark.parametrize("name,cluster,bill,unattributed", [
    ("focus.csv", "orders-prod", "617.45", "2.30"),  # credit -10, and the tax 12.30
    ("cur.csv", "orders-prod", None, None),
    ("confluent.csv", "events-cc", "94.03", "5.41"),  # connector, support, promo credit
])
def test_each_format_reconciles_and_its_billed_total_is_allocated_exactly(
        store: Store, name: str, cluster: str, bill: str | None,
        unattributed: str | None) -> None:
    analysis, allocation = _reconciled(store, name)
    _assert_exact(allocation)
    results = {c.cluster: c for c in allocation.clusters}
    result = results[cluster]
    assert result.basis == BILLED and result.estimate_micros is not None
    if bill is not None:
        assert Decimal(result.bill_micros or 0) / 1_000_000 == Decimal(bill)
        assert Decimal(result.unattributed_micros) / 1_000_000 == Decimal(unattributed or 0)
    expected = (result.bill_micros - result.estimate_micros) / result.estimate_micros * 100
    assert result.error_pct == pytest.approx(expected)
    # Unattributable lines sit on the cluster's __unallocated__ row by default.
    rows = _cluster_rows(allocation, cluster).set_index("topic")
    assert int(rows.loc[UNALLOCATED, "other_micros"]) == result.unattributed_micros
    assert int(rows.drop(UNALLOCATED)["other_micros"].abs().sum()) == 0
    # Clusters with no bill that month keep their estimate, prorated to its 720 hours.
    for other in allocation.clusters:
        monthly = analysis.clusters[other.cluster].model.cost.bill_total_micros
        assert other.estimate_micros == round(monthly * 720 / 730)
        if other.basis == ESTIMATED:
            assert other.bill_micros is None and other.error_pct is None


def test_the_cur_bill_spreads_its_tax_over_the_clusters_it_names(store: Store) -> None:
    _, allocation = _reconciled(store, "cur.csv")
    results = {c.cluster: c for c in allocation.clusters}
    payments, orders = results["payments-self"], results["orders-prod"]
    assert (payments.basis, orders.basis) == (BILLED, BILLED)
    # 11.50 of tax over 238.152 and 579.90 of the clusters' own lines.
    assert payments.unattributed_micros + orders.unattributed_micros == 11_500_000
    assert payments.unattributed_micros == round(11_500_000 * 238.152 / 818.052)
    assert payments.bill_micros == 238_152_000 + payments.unattributed_micros
    targets = {t.target: t for t in payments.targets}
    assert targets["compute"].bill_micros == 133_152_000
    assert targets["network"].bill_micros == 25_000_000
    assert targets["storage_local"].bill_micros == 80_000_000


def test_estimates_are_prorated_to_the_month(store: Store) -> None:
    settings = settings_for(store.url)
    analysis = analyze_store(store, settings)
    allocation = reconcile(analysis, store, settings, NOVEMBER)
    assert {c.basis for c in allocation.clusters} == {ESTIMATED}
    for result in allocation.clusters:
        monthly = analysis.clusters[result.cluster].model.cost.bill_total_micros
        assert result.estimate_micros == round(monthly * 720 / 730)
    february = reconcile(analysis, store, settings, "2027-02")
    for result in february.clusters:
        monthly = analysis.clusters[result.cluster].model.cost.bill_total_micros
        assert result.estimate_micros == round(monthly * 672 / 730)
    _assert_exact(allocation)


def test_proportional_spreads_unattributable_lines_over_topics_by_billed_cost(
        store: Store) -> None:
    _, allocation = _reconciled(store, "focus.csv", unattributed="proportional")
    _assert_exact(allocation)
    rows = _cluster_rows(allocation, "orders-prod")
    topics = rows[rows["side"].isin(["producer", "consumer"])]
    assert int(topics["other_micros"].sum()) == 2_300_000
    assert int(rows.loc[rows["topic"].isin([IDLE, UNALLOCATED]), "other_micros"].sum()) == 0
    usage = topics["monthly_cost_micros"] - topics["other_micros"]
    shares = topics["other_micros"] / 2_300_000
    assert np.allclose(shares, usage / usage.sum(), atol=1e-5)


def test_a_component_the_bill_names_but_the_estimate_lacks_goes_to_unallocated() -> None:
    snapshot = snapshot_of("payments-self")
    from costopt.cost.allocation import allocate
    from costopt.cost.chargeback import chargeback_rows

    catalog = load_builtin_catalog("aws-self-managed")  # no partition fees
    estimate = Estimate("payments-self", chargeback_rows(allocate(snapshot, catalog)),
                        snapshot.taken_at, catalog)
    lines = pd.DataFrame({
        "bill_id": "b", "provider": "AWS", "billing_account": "1", "currency": "USD",
        "line_number": [2, 3], "cluster": "payments-self", "target": ["partitions", "compute"],
        "category": "usage", "description": "", "resource_id": None,
        "amount_micros": [720_000, 100_000_000], "charge_start": NOVEMBER.start,
        "charge_end": NOVEMBER.end})
    allocation = allocate_month(NOVEMBER, "USD", {"payments-self": estimate}, lines)
    _assert_exact(allocation)
    rows = allocation.rows.set_index("topic")
    assert int(rows.loc[UNALLOCATED, "partitions_micros"]) == 720_000
    [result] = allocation.clusters
    targets = {t.target: t for t in result.targets}
    assert targets["compute"].bill_micros == 100_000_000
    # What the bill does not name was not billed: listed with a bill of 0.
    assert targets["storage_local"].bill_micros == 0
    assert targets["storage_local"].error_pct == -100.0
    assert int(allocation.rows["storage_local_micros"].sum()) == 0


def test_a_bill_in_another_currency_is_refused(store: Store) -> None:
    settings = settings_for(store.url)
    text = (SAMPLES / "focus.csv").read_text().replace(",USD,", ",EUR,")
    import_bill(store, settings, text.encode(), "eur.csv")
    with pytest.raises(ValueError, match="is in EUR; costopt's estimates are in USD"):
        reconcile(analyze_store(store, settings), store, settings, NOVEMBER)


def test_a_past_month_is_estimated_from_the_snapshot_current_then(store: Store) -> None:
    settings = settings_for(store.url)
    october = replace(snapshot_of("orders-prod"), taken_at=datetime(2026, 10, 10, tzinfo=UTC),
                      brokers=snapshot_of("orders-prod").brokers[:2])
    store.save_snapshot(october, catalog="aws-msk", source="test")
    analysis = analyze_store(store, settings)
    allocation = reconcile(analysis, store, settings, "2026-10")
    [result] = allocation.clusters  # the others have no snapshot before November
    assert result.cluster == "orders-prod" and result.estimated_from == october.taken_at
    assert result.estimate_micros != round(
        analysis.clusters["orders-prod"].model.cost.bill_total_micros * 744 / 730)
    text = (SAMPLES / "focus.csv").read_text().replace("2026-11-01T", "2026-10-01T").replace(
        "2026-12-01T", "2026-11-01T")
    import_bill(store, settings, text.encode(), "october.csv")
    billed = reconcile(analysis, store, settings, "2026-10")
    _assert_exact(billed)
    assert [c.basis for c in billed.clusters] == [BILLED]


# The `small` demo fleet with a bill 7% above the estimate ---------------------------------


@pytest.fixture(scope="module")
def small_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `small` fleet stored and analyzed once; each test bills a copy of it."""
    path = Path(tmp_path_factory.mktemp("small-billed")) / "costopt.db"
    store = Store.open(sqlite_url(path))
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=5, records_per_topic=20)
    cached_analysis(store, Settings(store_url=sqlite_url(path)))
    store.close()
    return path


@pytest.mark.parametrize("format", ["focus", "cur"])  # the fleet runs on AWS
def test_small_fleet_billed_7_percent_above_reconciles_to_the_cent_and_the_report_shows_it(
        small_database: Path, format: str, tmp_path: Path) -> None:
    import shutil

    shutil.copy(small_database, tmp_path / "costopt.db")
    url = sqlite_url(tmp_path / "costopt.db")
    store, settings = Store.open(url), Settings(store_url=url)
    analysis = cached_analysis(store, settings)
    estimates = month_estimates(analysis, store, settings, NOVEMBER)
    assert set(estimates) == set(analysis.clusters)
    data = generated_bill(format, estimates, NOVEMBER, Decimal("1.07"))
    result = import_bill(store, settings, data, f"{format}.csv")
    assert result.skipped == 0
    allocation = reconcile(analysis, store, settings, NOVEMBER)
    _assert_exact(allocation)
    lines = BillStore(store).lines(NOVEMBER.label)
    lines = lines[lines["bill_id"].isin([b.id for b in result.bills])]
    for cluster in allocation.clusters:
        assert cluster.basis == BILLED
        billed = int(lines.loc[lines["cluster"] == cluster.cluster, "amount_micros"].sum())
        assert cluster.bill_micros == billed
        assert int(_cluster_rows(allocation, cluster.cluster)["monthly_cost_micros"].sum()) \
            == billed
        assert cluster.error_pct == pytest.approx(7.0, abs=0.01)
        for target in cluster.targets:
            if target.estimate_micros > 100_000:  # a cent's rounding is 7% of 14 cents
                assert target.error_pct == pytest.approx(7.0, abs=0.01), target
    body = allocation.to_dict()
    assert body["error_pct"] == pytest.approx(7.0, abs=0.01)
    assert Decimal(body["total"]) == Decimal(body["bill"])
    # The rows' sides still add up per cluster: producer + consumer + shared = the bill.
    for cluster, rows in allocation.rows.groupby("cluster"):
        by_side = rows.groupby("side")["monthly_cost_micros"].sum()
        assert int(by_side.sum()) == next(c.bill_micros for c in allocation.clusters
                                          if c.cluster == cluster)
        assert by_side.get("consumer", 0) > 0
    report = write_report(analysis, tmp_path, "report", reconciliation=body)
    html = report.html.read_text()
    section = html[html.index('id="estimate-vs-bill"'):html.index('id="who-pays"')]
    assert section.count("+7.0%") >= len(allocation.clusters) + 1
    for name in analysis.clusters:
        assert name in section


def test_the_weekly_report_compares_the_newest_bill(store: Store, tmp_path: Path) -> None:
    from reports.run import make_report

    settings = settings_for(store.url).model_copy(update={"report": ReportSettings(
        directory=str(tmp_path / "reports"))})
    first = make_report(settings, store)
    assert "No bill imported yet" in Path(first["html"]).read_text()
    import_bill(store, settings, (SAMPLES / "focus.csv").read_bytes(), "focus.csv")
    html = Path(make_report(settings, store)["html"]).read_text()
    section = html[html.index('id="estimate-vs-bill"'):html.index('id="who-pays"')]
    allocation = reconcile(analyze_store(store, settings), store, settings, NOVEMBER)
    [orders] = [c for c in allocation.clusters if c.cluster == "orders-prod"]
    assert "2026-11" in section and "617.45" in section
    assert f"{orders.error_pct:+.1f}%" in section
