"""The analysis cache and incremental analysis: a worker loads the current analysis instead of
computing it, and a collect of one cluster re-analyzes that cluster only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from costopt.analyze.analysis import FleetAnalysis, analyze_store, cached_analysis, refresh_analysis
from costopt.config import Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store, schema, sqlite_url
from tests.fleets import fleet


def _small_store(tmp_path: Path) -> tuple[Store, Settings]:
    store = Store.open(sqlite_url(tmp_path / "costopt.db"))
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=5, records_per_topic=20)
    return store, Settings(store_url=store.url)


def test_one_new_snapshot_reanalyzes_one_cluster_and_the_cache_serves_the_rest(
        tmp_path: Path) -> None:
    store, settings = _small_store(tmp_path)
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


def _figures(analysis: FleetAnalysis) -> list[object]:
    return [(name, cluster.snapshot_id, cluster.model.cost.bill_micros,
             [r.to_dict() for r in cluster.recommendations], repr(cluster.forecast),
             cluster.chargeback.to_csv() if cluster.chargeback is not None else None)
            for name, cluster in analysis.clusters.items()]


def test_an_analyze_after_one_collect_computes_that_cluster_and_equals_a_full_one(
        tmp_path: Path) -> None:
    store, settings = _small_store(tmp_path)
    first = cached_analysis(store, settings)
    table = schema.cluster_analysis_cache
    with store.engine.connect() as connection:
        before = dict(connection.execute(select(table.c.cluster, table.c.key)).all())
    assert sorted(before) == store.clusters()  # one entry per cluster

    changed = store.clusters()[1]
    stored = store.latest_snapshot(changed)
    latest = stored.snapshot
    busier = tuple(replace(t, bytes_in_per_second=t.bytes_in_per_second * 3)
                   for t in latest.topics)
    store.save_snapshot(replace(latest, taken_at=latest.taken_at + timedelta(minutes=15),
                                topics=busier), catalog=stored.catalog, source="collect")
    assert list(refresh_analysis(store, settings)) == [changed]  # the analyze run's work
    assert refresh_analysis(store, settings) == {}
    incremental = cached_analysis(store, settings)
    with store.engine.connect() as connection:
        rows = connection.execute(select(table.c.cluster, table.c.key)).all()
    added = [cluster for cluster, key in rows if before.get(cluster) != key]
    assert added == [changed]  # only the collected cluster was analyzed again

    full = analyze_store(store, settings)
    assert _figures(incremental) == _figures(full)
    # The collect moved the figures, so the equality is of the new analysis, not the old.
    assert [r.to_dict() for r in incremental.clusters[changed].recommendations] != \
        [r.to_dict() for r in first.clusters[changed].recommendations]
