"""Write a simulated fleet into costopt's store, as a collect of each cluster would."""

from __future__ import annotations

from collections.abc import Callable

from costopt.simulate.fleet import Fleet
from costopt.simulate.payloads import sample_records
from costopt.simulate.snapshots import history_frame, simulate_clusters, snapshots_before
from costopt.store import Store

Progress = Callable[[str, int, int], None]


def load_fleet(store: Store, fleet: Fleet, sampled_topics_per_cluster: int = 50,
               records_per_topic: int = 100, progress: Progress | None = None) -> int:
    """Store every cluster's snapshot, series and record samples; returns topics stored.

    Records are sampled for the busiest topics of each cluster, the budget a real collector
    would spend (sampling every topic of a 50,000-topic fleet is neither cheap nor useful).
    """
    clusters = list(fleet.clusters["cluster"])
    topics = 0
    for index, simulated in enumerate(simulate_clusters(fleet)):
        snapshot = simulated.snapshot
        busiest = sorted(snapshot.topics, key=lambda t: t.bytes_in_per_second, reverse=True)
        samples = {t.name: sample_records(fleet, snapshot.cluster, t.name, records_per_topic)
                   for t in busiest[:sampled_topics_per_cluster] if t.bytes_in_per_second > 0}
        store.save_snapshot(snapshot, catalog=simulated.catalog, source="simulated",
                            series=history_frame(simulated.series), samples=samples)
        for earlier in snapshots_before(fleet, simulated.series):  # either side of a change
            store.save_snapshot(earlier, catalog=simulated.catalog, source="simulated")
        topics += len(snapshot.topics)
        if progress is not None:
            progress(snapshot.cluster, index + 1, len(clusters))
    return topics
