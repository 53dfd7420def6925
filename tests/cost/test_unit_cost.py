"""Cost per unit of traffic: the row's cost over its topics' month of traffic, marked
`estimated` where the exporter has no counter for what is divided by, and null with the
reason where there is nothing to divide by, never zero."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest

from api.presenters.costs import cost_fields as _costs
from costopt.cost.formulas import SECONDS_PER_MONTH
from costopt.cost.unit_cost import SHARED_CAPACITY, topic_traffic, unit_costs
from tests.fleets import analyzed


def test_a_topic_s_cost_per_gb_written_by_hand() -> None:
    analysis = analyzed("small")
    name, cluster = next(iter(analysis.clusters.items()))
    items = _costs(analysis, "topic", name, "month", "both", "gb_in")
    busiest = max(cluster.model.snapshot.topics, key=lambda t: t.bytes_in_per_second)
    item = next(i for i in items if i["topic"] == busiest.name)
    gb = busiest.bytes_in_per_second * SECONDS_PER_MONTH / cluster.model.catalog.gb_bytes
    assert Decimal(item["unit_cost"]) == pytest.approx(
        Decimal(item["monthly_cost"]) / Decimal(gb), abs=Decimal("0.00001"))
    assert item["units_per_month"] == pytest.approx(gb)
    assert item["unit_cost_basis"] == "measured" and item["unit_cost_reason"] is None


def test_nothing_to_divide_by_is_null_with_its_reason() -> None:
    analysis = analyzed("small")
    items = _costs(analysis, "topic", None, "month", "both", "million_messages")
    idle = [i for i in items if i["topic"] in ("__idle__", "__unallocated__")]
    assert idle and all(i["unit_cost"] is None and i["unit_cost_reason"] == SHARED_CAPACITY
                        for i in idle)
    silent = [i for i in items if i["units_per_month"] == 0 and i not in idle]
    assert silent, "the small fleet plants idle topics"
    assert all(i["unit_cost"] is None
               and i["unit_cost_reason"] == "no messages in over the window" for i in silent)
    assert not [i for i in items if i["unit_cost"] is not None and Decimal(i["unit_cost"]) == 0
                and Decimal(i["monthly_cost"]) != 0]


def test_estimated_bytes_make_an_estimated_unit_cost_and_messages_stay_measured() -> None:
    model = next(iter(analyzed("small").models.values()))
    estimated = replace(model, snapshot=replace(model.snapshot, labels={
        **model.snapshot.labels, "estimated": "bytes_in,bytes_out,log_size"}))
    traffic = topic_traffic([estimated])
    rows = pd.DataFrame({"cluster": [model.cluster], "monthly_cost_micros": [1_000_000]})
    [per_gb_out] = unit_costs("gb_out", rows, traffic, ["cluster"])
    [per_million] = unit_costs("million_messages", rows, traffic, ["cluster"])
    assert per_gb_out.basis == "estimated" and per_gb_out.cost_micros is not None
    assert per_million.basis == "measured"
