"""Simulated fleets analyzed in memory (no database), shared by the tests that need them."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from costopt.analyze.analysis import ClusterAnalysis, FleetAnalysis, analyze_cluster
from costopt.base.compression_ratios import estimates
from costopt.config import Settings
from costopt.cost.owners import OwnerAttribution
from costopt.prices import load_builtin_catalog
from costopt.rules import History
from costopt.simulate.fleet import Fleet, generate_fleet
from costopt.simulate.payloads import sample_records
from costopt.simulate.presets import preset
from costopt.simulate.snapshots import history_frame, simulate_clusters
from costopt.store.store import StoredSnapshot
from tests.parallel import computed_once

FIXED_END = datetime(2026, 11, 20, tzinfo=UTC)


@lru_cache(maxsize=4)
def fleet(name: str, seed: int | None = None) -> Fleet:
    spec = preset(name) if seed is None else preset(name).with_seed(seed)
    return generate_fleet(spec, end=FIXED_END)


def analyze_in_memory(simulated: Fleet, sampled_topics: int = 20,
                      settings: Settings | None = None) -> FleetAnalysis:
    settings = settings or Settings()
    clusters: dict[str, ClusterAnalysis] = {}
    for item in simulate_clusters(simulated):
        snapshot = item.snapshot
        busiest = sorted(snapshot.topics, key=lambda t: -t.bytes_in_per_second)[:sampled_topics]
        samples = {t.name: sample_records(simulated, snapshot.cluster, t.name, 60)
                   for t in busiest if t.bytes_in_per_second > 0}
        stored = StoredSnapshot(0, snapshot, item.catalog, "simulated")
        history = History.from_series(history_frame(item.series), groups=item.group_history)
        clusters[snapshot.cluster] = analyze_cluster(
            stored, load_builtin_catalog(item.catalog), history, estimates(samples), settings,
            OwnerAttribution())
    return FleetAnalysis(clusters, "USD", rule_settings=settings.rules)


@lru_cache(maxsize=2)
def analyzed(name: str) -> FleetAnalysis:
    """Once per process, and once per run across `make test`'s workers."""
    return computed_once(f"analyzed-{name}", lambda: analyze_in_memory(fleet(name)))
