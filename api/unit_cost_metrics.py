"""`costopt_topic_unit_cost` on `/metrics`: each of the top N topics' cost per million
messages in, per GB written and per GB read, for the topic drill-down dashboard. A topic
with nothing to divide by has no series (a gauge cannot say null, and zero would lie)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from costopt.analyze.analysis import FleetAnalysis
from costopt.base.money import micros_to_units
from costopt.cost.unit_cost import UNITS, topic_traffic, unit_costs


class UnitCostCollector(Collector):
    def __init__(self, analysis: FleetAnalysis, top_topics: pd.DataFrame) -> None:
        self.analysis = analysis
        self.top_topics = top_topics  # cluster, topic, owner, monthly_cost_micros

    def collect(self) -> Iterator[GaugeMetricFamily]:
        currency = self.analysis.currency
        family = GaugeMetricFamily(
            "costopt_topic_unit_cost", f"Monthly cost per unit of traffic of the top topics "
            f"by cost ({currency} per million messages in, per GB written, per GB read); "
            "basis=estimated where the exporter has no byte counter",
            labels=["cluster", "topic", "owner", "unit", "basis", "currency"])
        traffic = topic_traffic(self.analysis.models.values())
        rows = self.top_topics.reset_index(drop=True)
        for unit in UNITS:
            for row, found in zip(rows.itertuples(index=False),
                                  unit_costs(unit, rows, traffic, ["cluster", "topic"]),
                                  strict=True):
                if found.cost_micros is not None:
                    family.add_metric([row.cluster, row.topic, row.owner, unit, found.basis,
                                       currency], micros_to_units(found.cost_micros))
        yield family
