"""A month's allocation from what the store holds: the analysis's clusters estimated from the
snapshot current at the month's end, and the month's imported bills (`reconcile.py` does the
arithmetic)."""

from __future__ import annotations

from costopt.analyze.analysis import (
    FleetAnalysis,
    catalog_for,
    chargeback_of,
    measured_reads,
    owner_attribution,
)
from costopt.billing.reconcile import Estimate, Month, MonthAllocation, allocate_month
from costopt.config import Settings
from costopt.cost.allocation import allocate
from costopt.cost.chargeback import chargeback_rows
from costopt.cost.links import mirrored_topics
from costopt.store import Store
from costopt.store.bills import BillStore
from costopt.store.offsets import snapshot_before


def month_estimates(analysis: FleetAnalysis, store: Store, settings: Settings,
                    month: Month) -> dict[str, Estimate]:
    """Each cluster's chargeback rows from its last snapshot taken before the month's end:
    the analysis's own where that is its latest, else allocated afresh from the store."""
    out: dict[str, Estimate] = {}
    owners = None
    for name, cluster in analysis.clusters.items():
        snapshot = cluster.model.snapshot
        if snapshot.taken_at < month.end:
            out[name] = Estimate(name, chargeback_of(cluster), snapshot.taken_at,
                                 cluster.model.catalog, mirrored_topics(snapshot))
            continue
        stored = snapshot_before(store, name, month.end)
        if stored is None:
            continue
        owners = owners or owner_attribution(settings)
        catalog = catalog_for(stored, settings)
        cost = allocate(stored.snapshot, catalog, owners, settings.allocation)
        reads = measured_reads(store, name, stored.snapshot.taken_at,
                               settings.allocation.reads_window_hours)
        out[name] = Estimate(name, chargeback_rows(cost, stored.snapshot.groups, reads,
                                                   owners, stored.snapshot.principals),
                             stored.snapshot.taken_at, catalog,
                             mirrored_topics(stored.snapshot))
    return out


def reconcile(analysis: FleetAnalysis, store: Store, settings: Settings,
              month: Month | str) -> MonthAllocation:
    """The month's allocation: billed where a bill names the cluster, estimated elsewhere."""
    month = Month.parse(month) if isinstance(month, str) else month
    return allocate_month(month, analysis.currency,
                          month_estimates(analysis, store, settings, month),
                          BillStore(store).lines(month.label),
                          settings.allocation.unattributed)


def latest_billed_month(store: Store) -> str | None:
    months = BillStore(store).months()
    return months[-1] if months else None
