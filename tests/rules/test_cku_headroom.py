"""The `cku_headroom` rule: a Confluent Cloud Dedicated cluster's CKUs against what its peak
needs, priced by Confluent's CKU-hours; nothing to cut on elastic (eCKU) clusters.

Hand-computed cases on the `confluent-cloud` catalog: $1.50 per CKU-hour, 730 hours a month;
a CKU carries 60 MB/s in, 180 MB/s out and 4,500 partitions; a multi-zone Dedicated cluster has
at least 2 CKUs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest

from costopt.base.errors import InvalidInput
from costopt.rules import History
from costopt.whatif import run_whatif
from costopt.whatif.changes import Change, Selector
from tests.fleets import analyzed
from tests.rules import fixtures
from tests.rules.fixtures import NOW, analyze, ckus, reader, topic

CKU_MONTH = Decimal("1.50") * 730  # one CKU for a month, USD


def _evidence(rec: object) -> dict[str, object]:
    return {e.name: e.value for e in rec.evidence}  # type: ignore[attr-defined]


def _one(analysis: object) -> object:
    recs = [r for r in analysis.recommendations  # type: ignore[attr-defined]
            if r.kind == "cku_headroom"]
    assert len(recs) == 1, recs
    return recs[0]


def test_a_dedicated_cluster_above_its_peak_is_shrunk_to_what_ingress_needs() -> None:
    """8 CKUs; 150 MB/s in and out, 600 partitions, flat for 30 days. With 30% headroom:
    ingress 195 MB/s / 60 = 3.25 → 4 CKUs, egress 195 / 180 → 2, partitions 780 / 4,500 → 1.
    4 CKUs, bound by ingress: 4 fewer, 4 × 1.50 × 730 = 4,380.00 USD a month."""
    analysis = fixtures.oversized_dedicated_fleet()
    rec = _one(analysis)
    assert rec.proposed == {"cku_count": 4} and rec.current == {"cku_count": 8}
    assert "bound by ingress" in rec.title and rec.category == "saving"
    assert rec.monthly_savings.amount == 4 * CKU_MONTH == Decimal("4380.00")
    evidence = _evidence(rec)
    assert (evidence["ckus_needed_for_ingress"], evidence["ckus_needed_for_egress"],
            evidence["ckus_needed_for_partitions"]) == (4, 2, 1)
    assert str(evidence["peak_basis"]).startswith("measured")
    windows = {e.name: e.window for e in rec.evidence}
    assert windows["peak_bytes_in_per_second"] == "29 d of 1 d totals"  # first point to last
    assert rec.whatif == (Change(selector=Selector(cluster="c1"), cku_count=4),)
    result = run_whatif({"c1": analysis.model}, list(rec.whatif))
    assert (result.baseline - result.projected).amount == rec.monthly_savings.amount
    assert not result.warnings  # Confluent places the replicas: no broker warnings
    assert rec.change.startswith("confluent kafka cluster update c1 --cku 4")


def test_the_peak_not_the_average_sizes_the_cluster() -> None:
    """The same cluster, but one day in 30 ran at 200 MB/s in: 260 / 60 = 4.33 → 5 CKUs,
    3 fewer: 3 × 1.50 × 730 = 3,285.00 USD a month."""
    t = topic("payments.v1", rate=150_000_000, retention_days=1, partitions=600)
    rows = [{"topic": t.name, "ts": NOW - timedelta(days=30 - d), "resolution_seconds": 86_400,
             "bytes_in_per_second": 200e6 if d == 12 else 150e6, "bytes_out_per_second": 150e6,
             "messages_in_per_second": t.messages_in_per_second,
             "log_size_bytes": float(t.log_size_bytes)} for d in range(30)]
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    analysis = analyze((t,), (reader("svc", t.name),), broker_set=ckus(8),
                       catalog="confluent-cloud", history=History.from_series(frame))
    rec = _one(analysis)
    assert rec.proposed == {"cku_count": 5}
    assert rec.monthly_savings.amount == 3 * CKU_MONTH == Decimal("3285.00")
    assert _evidence(rec)["peak_bytes_in_per_second"] == 200_000_000


def test_thin_evidence_is_a_watch_item_that_says_so() -> None:
    t = topic("payments.v1", rate=150_000_000, retention_days=1, partitions=600)
    analysis = analyze((t,), (reader("svc", t.name),), broker_set=ckus(8),
                       catalog="confluent-cloud", history_days=3)
    rec = _one(analysis)
    assert rec.category == "watch" and rec.provisional and rec.needed_days == 7
    windows = {e.name: e.window for e in rec.evidence}
    assert windows["peak_bytes_in_per_second"].endswith("(7 d needed)")


def test_without_history_the_average_stands_in_for_the_peak_and_says_so() -> None:
    t = topic("payments.v1", rate=150_000_000, retention_days=1, partitions=600)
    analysis = analyze((t,), (reader("svc", t.name),), broker_set=ckus(8),
                       catalog="confluent-cloud", history=History.empty())
    rec = _one(analysis)
    assert str(_evidence(rec)["peak_basis"]).startswith("assumed")
    assert rec.confidence <= 0.4 and rec.category == "watch"


def test_at_the_minimum_nothing_is_advised() -> None:
    """Two CKUs carrying almost nothing: the multi-zone minimum binds."""
    t = topic("small.v1", rate=1_000_000, retention_days=1)
    analysis = analyze((t,), (reader("svc", t.name),), broker_set=ckus(2),
                       catalog="confluent-cloud")
    assert not [r for r in analysis.recommendations if r.kind == "cku_headroom"]


def test_elastic_clusters_get_no_advice_and_the_skip_says_why() -> None:
    """Standard scales its eCKUs with the load and bills those used: nothing provisioned."""
    t = topic("orders.v1", rate=40_000_000, retention_days=1, partitions=100)
    unit = replace(ckus(1)[0], instance_type="eCKU.standard")
    analysis = analyze((t,), (reader("svc", t.name),), broker_set=(unit,),
                       catalog="confluent-cloud")
    assert not [r for r in analysis.recommendations if r.kind == "cku_headroom"]
    (skip,) = [s for s in analysis.skipped if s.rule == "cku_headroom"]
    # 40 MB/s x 1.3 = 52 MB/s over 25 MB/s per eCKU: 3 eCKUs, bound by ingress.
    assert "bills the eCKUs used" in skip.reason
    assert "needs 3 at its peak" in skip.reason and "bound by ingress" in skip.reason


def test_cku_count_is_refused_where_the_cluster_is_not_billed_in_ckus() -> None:
    analysis = fixtures.oversized_cluster_fleet()  # self-managed brokers
    with pytest.raises(InvalidInput, match="cku_count"):
        run_whatif({"c1": analysis.model},
                   [Change(selector=Selector(cluster="c1"), cku_count=2)])


def test_on_the_confluent_preset_the_dedicated_cluster_is_shrunk_to_its_minimum() -> None:
    """The preset plants a Dedicated cluster of 4 CKUs whose load needs 1: the multi-zone
    minimum of 2 binds, 2 × 1.50 × 730 = 2,190.00 USD a month; Standard and Freight are
    elastic and are skipped with the reason."""
    analysis = analyzed("confluent")
    recs = [r for r in analysis.recommendations if r.kind == "cku_headroom"]
    assert [(r.cluster, r.current, r.proposed) for r in recs] == [
        ("dedicated-core", {"cku_count": 4}, {"cku_count": 2})]
    (rec,) = recs
    assert rec.monthly_savings.amount == 2 * CKU_MONTH == Decimal("2190.00")
    assert "bound by the minimum of 2" in rec.title
    assert str(_evidence(rec)["peak_basis"]).startswith("measured")
    result = run_whatif(analysis.models, list(rec.whatif))
    assert (result.baseline - result.projected).amount == rec.monthly_savings.amount
    skipped = {s.cluster for c in analysis.clusters.values() for s in c.skipped
               if s.rule == "cku_headroom"}
    assert skipped == {"standard-orders", "freight-analytics"}
