"""The analysis as CSV and JSON files: the same content as the HTML report, for scripts."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.base.money import micros_to_decimal, rounded
from costopt.cost.allocation import COMPONENTS
from costopt.cost.unit_cost import UNIT_COLUMNS, topic_traffic, unit_cost_columns
from costopt.rules import Recommendation


def money(micros: int) -> str:
    return str(micros_to_decimal(int(micros)).quantize(Decimal("0.000001")))


COST_FIELDS = ["cluster", "topic", "owner", "side", "consumer_group", "principal",
               "topic_owner", "split", "measured_share", "basis", "monthly_cost", "currency",
               "period", *COMPONENTS, *UNIT_COLUMNS.values(), "unit_cost_basis",
               "unit_cost_note"]


def cost_rows(analysis: FleetAnalysis) -> list[dict[str, Any]]:
    """Per cluster × topic a `producer` row (its owner's, or one per service account that
    wrote to it) and a `consumer` row per service account that fetched it, else per consumer
    group that reads it (the reader pays its share), plus each cluster's `__idle__` and
    `__unallocated__` (`shared`). `split` says what each row's share rests on: `principal`
    bytes, `group` reads, `even` shares, `own`, `unread`. Estimates at the monthly rate; each
    row's cost per million messages in, per GB written and per GB read of its topic
    (`costopt.cost.unit_cost`)."""
    rows = []
    traffic = topic_traffic(analysis.models.values())
    for frame in analysis.chargeback_frames():
        units = iter(unit_cost_columns(frame, traffic))
        for record in frame.itertuples(index=False):
            row: dict[str, Any] = {
                "cluster": record.cluster, "topic": record.topic, "owner": record.owner,
                "side": record.side, "consumer_group": record.group,
                "principal": record.principal,
                "topic_owner": record.topic_owner, "split": record.split,
                "measured_share": f"{record.measured_share:.4f}", "basis": "estimated",
                "monthly_cost": money(record.monthly_cost_micros),
                "currency": analysis.currency, "period": "month"}
            for component in COMPONENTS:
                row[component] = money(getattr(record, f"{component}_micros"))
            row.update(next(units))
            rows.append(row)
    return rows


def write_costs_csv(analysis: FleetAnalysis, path: Path) -> Path:
    rows = cost_rows(analysis)
    fields = COST_FIELDS
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def recommendation_dicts(recommendations: list[Recommendation],
                         decisions: Decisions | None = None) -> list[dict[str, Any]]:
    """Every recommendation with its status (`costopt.analyze.decisions`), as the API shows it."""
    return [{**d.recommendation.to_dict(), "status": d.status, "status_reason": d.reason}
            for d in (decisions or Decisions()).decide(recommendations)]


def write_recommendations_json(analysis: FleetAnalysis, path: Path,
                               decisions: Decisions | None = None) -> Path:
    path.write_text(json.dumps(recommendation_dicts(analysis.recommendations, decisions),
                               indent=1))
    return path


def write_plan_json(analysis: FleetAnalysis, path: Path,
                    decisions: Decisions | None = None) -> Path:
    """The savings plan, as `GET /v1/plan` gives it (every step)."""
    plan = analysis.plan(decisions)
    path.write_text(json.dumps({
        "monthly_cost": rounded(plan.bill_micros), "savings": rounded(plan.total_savings_micros),
        "share_of_bill": round(plan.share_of_bill, 4), "currency": plan.currency,
        "period": "month", "skipped": plan.skipped,
        "steps": [step.to_dict(plan.currency) for step in plan.steps]}, indent=1))
    return path
