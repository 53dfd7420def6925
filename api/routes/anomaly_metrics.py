"""The anomaly gauges of `/metrics` (alert rules are written on these two names):
`costopt_anomalies_open{scope}` and, per open anomaly,
`costopt_anomaly_impact_monthly{anomaly_id, scope, item, driver, currency}`."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from costopt.base.money import micros_to_units
from costopt.records.anomaly import SCOPES
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore


class AnomalyCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        anomalies = AnomalyStore(self.store)
        counts = anomalies.open_counts()
        opened = GaugeMetricFamily("costopt_anomalies_open",
                                   "Cost anomalies open, by scope", labels=["scope"])
        for scope in SCOPES:
            opened.add_metric([scope], counts.get(scope, 0))
        yield opened
        impact = GaugeMetricFamily(
            "costopt_anomaly_impact_monthly",
            "Monthly-rate cost change of each open anomaly, in its currency",
            labels=["anomaly_id", "scope", "item", "driver", "currency"])
        for record in anomalies.list("open", limit=10_000):
            driver = record["driver"]
            said = f"{driver['figure']}: {driver['change']}" if driver.get("change") \
                else f"{driver['figure']} moved"
            item = (f"{record['cluster']}/{record['item']}" if record["scope"] == "topic"
                    else record["item"])
            impact.add_metric([record["id"], record["scope"], item, said, record["currency"]],
                              micros_to_units(record["impact_monthly_micros"]))
        yield impact
