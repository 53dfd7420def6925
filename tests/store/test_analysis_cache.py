"""The analysis cache and incremental analysis: a worker loads the current analysis instead of
computing it, and a collect of one cluster re-analyzes that cluster only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from costopt.analysis import analyze_store, cached_analysis
from costopt.config import Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from tests.fleets import fleet


def test_one_new_snapshot_reanalyzes_one_cluster_and_the_cache_serves_the_rest(
        tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=5, records_per_topic=20)
    settings = Settings(store_url=store.url)
    first = cached_analysis(store, settings)
    again = cached_analysis(store, settings)  # the cache: same figures, not recomputed
    assert again.monthly_cost_micros() == first.monthly_cost_micros()
    assert [r.id for r in again.recommendations] == [r.id for r in first.recommendations]

    changed = store.clusters()[0]
    stored = store.latest_snapshot(changed)
    latest = stored.snapshot
    store.save_snapshot(replace(latest, taken_at=latest.taken_at + timedelta(minutes=15)),
                        catalog=stored.catalog, source="collect")
    second = analyze_store(store, settings, previous=first)
    for name, cluster in second.clusters.items():
        if name == changed:
            assert cluster is not first.clusters[name]
            assert cluster.snapshot_id == store.latest_snapshot_id(name)
        else:
            assert cluster is first.clusters[name]  # taken as it was
    other = Settings(store_url=store.url, rules={"retention": {"margin": 1.0}})
    recomputed = analyze_store(store, other, previous=first)
    assert all(recomputed.clusters[n] is not first.clusters[n] for n in first.clusters)
    cached = cached_analysis(store, settings)
    assert cached.clusters[changed].snapshot_id == store.latest_snapshot_id(changed)
