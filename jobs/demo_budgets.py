"""Budgets for the demo, so its report and console show them working: the fleet's, a little
above its monthly cost, and the most expensive team's, a little below its own (at risk)."""

from __future__ import annotations

import math
from decimal import Decimal

from costopt.analyze.analysis import FleetAnalysis
from costopt.base.money import micros_to_decimal
from costopt.cost.allocation import IDLE, UNALLOCATED
from costopt.records.budget_spec import ConfiguredBudget


def demo_budgets(analysis: FleetAnalysis) -> list[ConfiguredBudget]:
    fleet = micros_to_decimal(analysis.monthly_cost_micros())
    budgets = [ConfiguredBudget(name="fleet", scope="fleet",
                                amount=Decimal(math.ceil(fleet / 1000 + Decimal("0.1")) * 1000))]
    owners: dict[str, int] = {}
    for frame in analysis.chargeback_frames():
        for owner, micros in frame.groupby("owner")["monthly_cost_micros"].sum().items():
            if owner not in (IDLE, UNALLOCATED):
                owners[str(owner)] = owners.get(str(owner), 0) + int(micros)
    if owners:
        top = max(owners, key=lambda o: (owners[o], o))
        amount = (micros_to_decimal(owners[top]) * Decimal("0.9")).quantize(Decimal(1))
        budgets.append(ConfiguredBudget(name=f"team-{top}", scope="owner", target=top,
                                        amount=amount))
    return budgets
