"""The `confluent` preset the way a Confluent Cloud user runs costopt: written as the Metrics
API export serves it (the `confluent_cloud` dialect) into a real Prometheus, collected cluster
by cluster (bytes per service account come for the whole cluster), analyzed, and charged by
principal. Each service account pays what its planted traffic drives, within 2%: its planted
share of every topic's GB written and write load, and its groups' share of every topic's
consumer side (GB read and fetch load)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from costopt.analyze.analysis import analyze_store
from costopt.config import ClusterSettings, PrometheusSettings, ScheduleSettings, Settings
from costopt.cost import formulas
from costopt.cost.chargeback import ALL_TOPICS, consumer_micros
from costopt.simulate.openmetrics import kafka_id, write_openmetrics
from costopt.sources.collect import collect_cluster
from costopt.store import Store, sqlite_url
from tests.fleets import fleet
from tests.stack.prometheus_server import PrometheusServer

TOLERANCE = 0.02


def test_collected_principals_split_the_cost_as_planted(tmp_path: Path) -> None:
    simulated = fleet("confluent")
    (tmp_path / "prometheus").mkdir()
    server = PrometheusServer(tmp_path / "prometheus")
    export = server.workdir / "export.om"
    with export.open("w") as out:
        write_openmetrics(simulated, out, "confluent_cloud", days=2 / 24, step_seconds=60)
    server.backfill(export)
    export.unlink()
    server.start()
    try:
        meta = simulated.clusters.set_index("cluster")
        configs = [ClusterSettings(
            name=name, catalog="confluent-cloud", window_seconds=3600, lookback_seconds=600,
            hourly_days=1, instance_type=str(meta.at[name, "instance_type"]),
            broker_count=int(meta.at[name, "brokers"]),
            prometheus=PrometheusSettings(url=server.url, cluster_label="kafka_id",
                                          cluster_label_value=kafka_id(name)))
            for name in meta.index]
        settings = Settings(store_url=sqlite_url(tmp_path / "costopt.db"), clusters=configs,
                            schedule=ScheduleSettings(collect_every_minutes=1, history_days=1))
        store = Store.open(settings.store_url)
        for config in configs:
            collect_cluster(config, store, settings, at=simulated.end - timedelta(minutes=10))
        analysis = analyze_store(store, settings)
    finally:
        server.stop()
    errors: list[float] = []
    active = simulated.topics.set_index(["cluster", "topic"])["active_readers"]
    for name, cluster in analysis.clusters.items():
        cost, rows = cluster.model.cost, cluster.chargeback
        assert rows is not None and all(p.topic is None for p in cluster.model.snapshot.principals)
        basis, topics = cost.basis, cost.topic_rows().set_index("topic")
        writes = topics["network_producer_micros"] + basis.compute_allocatable * \
            formulas.fetch_compute_share(cost.frame.set_index("topic")["bytes_in_per_second"],
                                         basis.throughput_total, basis.weight_throughput) * 1e6
        reads = pd.Series(np.sum(list(consumer_micros(cost).values()), axis=0),
                          index=topics.index)
        planted = simulated.principals[simulated.principals["cluster"] == name]
        readers = planted["topic"].map(active.loc[name]).to_numpy(dtype=float)
        expected = pd.DataFrame({
            "producer": planted["produce_share"] * planted["topic"].map(writes),
            "consumer": np.where(readers > 0, planted["readers"] / np.maximum(readers, 1)
                                 * planted["topic"].map(reads).to_numpy(), 0.0),
            "principal": planted["principal_id"]}).groupby("principal").sum()
        mine = rows[rows["split"] == "principal"]
        assert set(mine["topic"]) == {ALL_TOPICS}
        charged = mine.pivot_table(index="principal", columns="side",
                                   values="monthly_cost_micros", aggfunc="sum", fill_value=0)
        for side in ("producer", "consumer"):
            both = pd.DataFrame({"expected": expected[side],
                                 "charged": charged[side]}).fillna(0.0)
            material = both[both["expected"] >= 10_000]  # from a cent a month
            assert len(material) >= 30, (name, side)
            errors += ((material["charged"] - material["expected"]).abs()
                       / material["expected"]).tolist()
    assert max(errors) <= TOLERANCE, max(errors)
