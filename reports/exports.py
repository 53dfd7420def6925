"""The analysis as CSV and JSON files: the same content as the HTML report, for scripts."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from costopt.analysis import FleetAnalysis
from costopt.cost.allocation import COMPONENTS
from costopt.money import CENT, micros_to_decimal
from costopt.rules import Recommendation


def money(micros: int) -> str:
    return str(micros_to_decimal(int(micros)).quantize(Decimal("0.000001")))


def cost_rows(analysis: FleetAnalysis) -> list[dict[str, Any]]:
    """A row per cluster × topic, plus each cluster's `__idle__` and `__unallocated__`."""
    rows = []
    for cost in analysis.costs:
        for record in cost.rows.itertuples(index=False):
            row: dict[str, Any] = {"cluster": record.cluster, "topic": record.topic,
                                   "owner": record.owner,
                                   "monthly_cost": money(record.monthly_cost_micros),
                                   "currency": cost.currency, "period": "month"}
            for component in COMPONENTS:
                row[component] = money(getattr(record, f"{component}_micros"))
            rows.append(row)
    return rows


def write_costs_csv(analysis: FleetAnalysis, path: Path) -> Path:
    rows = cost_rows(analysis)
    fields = ["cluster", "topic", "owner", "monthly_cost", "currency", "period", *COMPONENTS]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def recommendation_dicts(recommendations: list[Recommendation]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in recommendations]


def write_recommendations_json(analysis: FleetAnalysis, path: Path) -> Path:
    path.write_text(json.dumps(recommendation_dicts(analysis.recommendations), indent=1))
    return path


def rounded(micros: int) -> str:
    return str(micros_to_decimal(int(micros)).quantize(CENT))
