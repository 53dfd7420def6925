"""Confluent Cloud capacity headroom: the CKUs a Dedicated cluster pays for against what its
load needs.

Confluent bills a Dedicated cluster the CKUs it is provisioned with, whatever its load, so CKUs
above its peak (plus headroom) are paid for and unused: a saving, priced as every saving is,
by the what-if engine (`cku_count`). Basic, Standard, Enterprise and Freight clusters scale
their eCKUs with the load and bill the eCKUs used: nothing is provisioned to cut, so the rule
makes no recommendation there and records why, with the eCKUs the load needs and the limit
that binds (the saving on those clusters lies in the load: retention, compression, idle
topics). Other offerings have no CKUs: the rule does nothing there.

The load, per dimension Confluent limits a unit by: bytes in and bytes out at their peak, the
largest of the cluster's stored totals at the finest resolution stored (measured; the evidence
names that span and resolution, e.g. `7 d of 1 h totals`); with no history, the snapshot's
window averages (an assumed peak, said so).
Partitions (before replication, as Confluent counts them) are the snapshot's. Units needed =
the most any dimension needs with `headroom` on top, whole units, never fewer than the
catalog's `min_units` (`formulas.elastic_units_needed`). Per-unit limits are the catalog's
`provisioned_units` (CKU) and `elastic_units` (eCKU).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from costopt.base import units
from costopt.base.money import Money, units_to_micros
from costopt.cost import formulas
from costopt.cost.cluster_model import ClusterModel
from costopt.prices.catalog import ElasticUnit
from costopt.rules.base import BaseRule, RuleContext, Skip, priced_fields
from costopt.rules.candidate_pricing import Candidate, Pricing
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.whatif.changes import Change, Selector

DIMENSIONS = ("ingress", "egress", "partitions")


@dataclass(frozen=True)
class Load:
    """A cluster's load in the dimensions Confluent sizes a unit by, and how it was read."""

    bytes_in_per_second: float
    bytes_out_per_second: float
    partitions: int
    measured_peak: bool  # False: no history, the snapshot's averages stand in for the peak
    window: str

    def units_needed(self, unit: ElasticUnit, headroom: float) -> dict[str, int]:
        """Whole units each dimension needs at its peak with `headroom` on top."""
        scale = 1.0 + headroom
        loads = {"ingress": (self.bytes_in_per_second * scale, 0.0, 0.0),
                 "egress": (0.0, self.bytes_out_per_second * scale, 0.0),
                 "partitions": (0.0, 0.0, self.partitions * scale)}
        return {dimension: formulas.elastic_units_needed(
            *load, unit.ingress_bytes_per_second, unit.egress_bytes_per_second,
            unit.partitions, 0) for dimension, load in loads.items()}


def cluster_load(model: ClusterModel, history: History, needed_days: float | None) -> Load:
    columns = model.columns
    partitions = int(columns["partitions"].sum())
    totals = history.totals
    if totals is not None and not totals.empty:
        resolution = int(totals["resolution_seconds"].min())
        finest = totals[totals["resolution_seconds"] == resolution]
        if len(finest) >= 2:
            span = (finest["ts"].max() - finest["ts"].min()).total_seconds()
            window = f"{units.duration(span)} of {units.duration(resolution)} totals"
            if needed_days is not None and history.observed_days < needed_days:
                window += f" ({units.duration(needed_days * 86_400)} needed)"
            return Load(float(finest["bytes_in_per_second"].max()),
                        float(finest["bytes_out_per_second"].max()), partitions, True, window)
    return Load(float(columns["bytes_in_per_second"].sum()),
                float(columns["bytes_out_per_second"].sum()), partitions, False, "snapshot")


def binding(needs: Mapping[str, int], minimum: int = 0) -> str:
    """What sets the count: the dimension that needs the most (the first of equals, in
    DIMENSIONS order), or the offering's minimum where every dimension needs less."""
    most = max(needs.values())
    if minimum > most:
        return f"the minimum of {minimum}"
    return next(d for d in DIMENSIONS if needs[d] == most)


class CkuHeadroomRule(BaseRule):
    name = "cku_headroom"
    target_type = "cluster"
    destructive = True  # fewer CKUs on a short window is a watch item, never advice
    defaults: ClassVar[dict[str, Any]] = {"headroom": 0.3, "min_window_days": 7,
                                          "min_monthly_savings": 0.0}

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return float(config["min_window_days"])

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        catalog, brokers = model.catalog, model.snapshot.brokers
        if catalog.kind != "confluent_cloud" or not brokers:
            return
        unit_type = brokers[0].instance_type
        load = cluster_load(model, history, self.needed_days(config))
        headroom = float(config["headroom"])
        if unit_type in catalog.elastic_units:
            needs = load.units_needed(catalog.elastic_units[unit_type], headroom)
            yield self.skip(model, model.cluster, (
                f"{unit_type} scales with the load and Confluent bills the eCKUs used: nothing "
                f"provisioned to cut (the load needs {max(needs.values())} at its "
                f"{'peak' if load.measured_peak else 'average'} with {headroom:.0%} headroom, "
                f"bound by {binding(needs)})"))
            return
        unit = catalog.provisioned_units.get(unit_type)
        if unit is None:
            return
        needs = load.units_needed(unit, headroom)
        proposed = max(max(needs.values()), unit.min_units, 1)
        if proposed < len(brokers):
            change = Change(selector=Selector(cluster=model.cluster), cku_count=proposed)
            yield Candidate(model.cluster, (change,),
                            {"load": load, "needs": needs, "unit": unit, "unit_type": unit_type,
                             "proposed": proposed})

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        if pricing.savings_micros <= max(units_to_micros(config["min_monthly_savings"]), 0):
            return None
        load: Load = candidate.facts["load"]
        needs: dict[str, int] = candidate.facts["needs"]
        unit: ElasticUnit = candidate.facts["unit"]
        unit_type: str = candidate.facts["unit_type"]
        current, proposed = len(model.snapshot.brokers), candidate.facts["proposed"]
        peak = "measured: the largest stored total" if load.measured_peak else (
            "assumed: no history, the snapshot's averages stand in for the peak")
        evidence = (
            Evidence("ckus", current, "count"),
            Evidence("peak_bytes_in_per_second", round(load.bytes_in_per_second), "bytes/s",
                     load.window),
            Evidence("peak_bytes_out_per_second", round(load.bytes_out_per_second), "bytes/s",
                     load.window),
            Evidence("peak_basis", peak, "basis", load.window),
            Evidence("partitions", load.partitions, "count"),
            Evidence("headroom", float(config["headroom"]), "ratio", "setting"),
            *(Evidence(f"ckus_needed_for_{dimension}", needs[dimension], "count", load.window)
              for dimension in DIMENSIONS),
            Evidence("limits_per_cku",
                     f"{unit.ingress_bytes_per_second / 1e6:,.0f} MB/s in, "
                     f"{unit.egress_bytes_per_second / 1e6:,.0f} MB/s out, "
                     f"{unit.partitions:,} partitions, at least {unit.min_units} "
                     f"(catalog {model.catalog.name}, provisioned_units.{unit_type})", "basis",
                     "catalog"),
        )
        kafka_id = model.snapshot.labels.get("kafka_id", model.cluster)
        return Recommendation(
            cluster=model.cluster, kind=self.name, target_type="cluster", target=model.cluster,
            owner="platform",
            title=f"Shrink Dedicated cluster: {current} → {proposed} CKUs (bound by "
                  f"{binding(needs, unit.min_units)})",
            evidence=evidence, current={"cku_count": current},
            proposed={"cku_count": proposed}, risk="medium",
            confidence=0.7 if load.measured_peak else 0.4,
            change=f"confluent kafka cluster update {shlex.quote(kafka_id)} --cku {proposed} "
                   "(Confluent shrinks a Dedicated cluster online; watch its load metrics "
                   "while it does)",
            whatif=candidate.changes,
            target_cost=Money.from_micros(model.cost.bill_total_micros, model.cost.currency),
            **priced_fields(model, pricing))
