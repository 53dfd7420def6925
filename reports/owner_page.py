"""Each team its own page (`costopt report --owner TEAM`, and with every scheduled report
where `report.per_owner` is on): what the team costs and per unit of its traffic, its
budgets, its anomalies, its open recommendations with their total, and who pays for its
topics (itself as producer, other teams as readers). Delivered to the team's own webhook
(`report.owner_webhooks`); the fleet report links each page.

Its "What changed" section is the fleet report's (reports/what_changed.py), limited to the
owner's anomalies, read once from the store for every page of a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.base.money import rounded
from costopt.cost.allocation import IDLE, UNALLOCATED
from costopt.cost.unit_cost import (
    UNITS,
    topic_traffic,
    unit_cost_columns,
    unit_cost_text,
    unit_costs,
)
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore
from reports.weekly import who_pays
from reports.what_changed import what_changed

TOP_TOPICS = 20
TOP_READERS = 10
TOP_RECOMMENDATIONS = 25
# How many stored anomalies (newest first) the pages of one run read: as the fleet report.
PAGE_ANOMALIES = 200


@dataclass(frozen=True)
class OwnerContext:
    """What every team page of one run shares, computed once for hundreds of owners."""

    analysis: FleetAnalysis
    rows: pd.DataFrame  # every chargeback row of the fleet
    traffic: pd.DataFrame  # per topic (costopt.cost.unit_cost.topic_traffic)
    paying: dict[str, dict[str, Any]]  # who_pays by owner
    decisions: Decisions
    budgets: Sequence[Mapping[str, Any]]
    store: Store | None = None
    anomalies: Sequence[Mapping[str, Any]] = ()

    @classmethod
    def of(cls, analysis: FleetAnalysis, decisions: Decisions | None = None,
           budgets: Sequence[Mapping[str, Any]] = (), store: Store | None = None
           ) -> OwnerContext:
        frames = analysis.chargeback_frames()
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        paying = {p["owner"]: p for p in who_pays(analysis, top=1_000_000)}
        anomalies = AnomalyStore(store).list(limit=PAGE_ANOMALIES) if store is not None else []
        return cls(analysis, rows, topic_traffic(analysis.models.values()), paying,
                   decisions or Decisions(), budgets, store, anomalies)

    def owners(self) -> list[str]:
        """Every owner that pays for something, most expensive first (not idle capacity)."""
        return [o for o in self.paying if o not in (IDLE, UNALLOCATED)]


def owner_page_data(context: OwnerContext, owner: str) -> dict[str, Any]:
    analysis = context.analysis
    rows = context.rows
    paying = context.paying.get(owner)
    if paying is None:
        known = ", ".join(context.owners()[:20]) or "none"
        raise KeyError(f"unknown owner {owner!r} (known: {known})")
    mine = rows[rows["owner"] == owner]
    total = int(mine["monthly_cost_micros"].sum())
    per_owner = pd.DataFrame({"owner": [owner], "monthly_cost_micros": [total]})
    unit = {u: unit_costs(u, per_owner, context.traffic, ["owner"])[0] for u in UNITS}
    own_topics = rows[(rows["topic_owner"] == owner) & (rows["side"] != "shared")]
    topics = own_topics.groupby(["cluster", "topic"], as_index=False)[
        "monthly_cost_micros"].sum().nlargest(TOP_TOPICS, "monthly_cost_micros")
    readers = own_topics[(own_topics["side"] == "consumer") & (own_topics["owner"] != owner)]
    topics_cost = int(own_topics["monthly_cost_micros"].sum())
    readers_cost = int(readers["monthly_cost_micros"].sum())
    plan = analysis.plan(context.decisions)
    steps = [s for s in plan.steps if s.recommendation.owner == owner]
    return {
        "owner": owner, "generated_at": analysis.generated_at.isoformat(),
        "currency": analysis.currency, "period": "month",
        "monthly_cost": rounded(total), "producer": paying["producer"],
        "consumer": paying["consumer"],
        "unit_costs": {u: {"unit_cost": unit_cost_text(c.cost_micros), "basis": c.basis,
                           "reason": c.reason} for u, c in unit.items()},
        "topics_cost": rounded(topics_cost),
        "readers_cost": rounded(readers_cost),
        "readers_share": round(readers_cost / topics_cost, 4) if topics_cost else None,
        "readers": [{"owner": r.owner, "monthly_cost": rounded(r.monthly_cost_micros)}
                    for r in readers.groupby("owner", as_index=False)["monthly_cost_micros"]
                    .sum().nlargest(TOP_READERS, "monthly_cost_micros")
                    .itertuples(index=False)],
        "top_topics": [{"cluster": t.cluster, "topic": t.topic,
                        "monthly_cost": rounded(t.monthly_cost_micros), **units}
                       for t, units in zip(topics.itertuples(index=False),
                                           unit_cost_columns(topics, context.traffic),
                                           strict=True)],
        "budgets": [b for b in context.budgets
                    if b.get("scope") == "owner" and b.get("target") == owner],
        "recommendations": [{**s.recommendation.to_dict(),
                             "plan_savings": rounded(s.marginal_savings_micros)}
                            for s in steps[:TOP_RECOMMENDATIONS]],
        "recommendations_count": len(steps),
        "recommendations_total": rounded(sum(s.marginal_savings_micros for s in steps)),
        "what_changed": what_changed(context.anomalies, owner),
    }


def page_name(owner: str) -> str:
    """A file name for the owner's page (owners are free text)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", owner) + ".html"


def render_owner_page(data: Mapping[str, Any], fleet_report: str | None = None) -> str:
    environment = Environment(loader=PackageLoader("reports", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("owner.html.j2").render(data=data,
                                                            fleet_report=fleet_report)


def write_owner_page(context: OwnerContext, owner: str, directory: Path,
                     fleet_report: str | None = None) -> tuple[Path, dict[str, Any]]:
    """`<directory>/<owner>.html` and its JSON beside it; the HTML is moved in last."""
    directory.mkdir(parents=True, exist_ok=True)
    data = owner_page_data(context, owner)
    html = directory / page_name(owner)
    staging = html.with_name(f".{html.name}.partial")
    html.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str))
    staging.write_text(render_owner_page(data, fleet_report))
    staging.replace(html)
    return html, data


def owner_message(data: Mapping[str, Any]) -> str:
    """The webhook text for a team: its month in one line."""
    budgets = "; ".join(f"budget {b['name']}: {b['month_to_date']} of {b['amount']} "
                        f"({b['status'].replace('_', ' ')})" for b in data["budgets"])
    return (f"costopt: {data['owner']} costs {data['monthly_cost']} {data['currency']}/month; "
            f"{data['recommendations_count']} open recommendations would save "
            f"{data['recommendations_total']} {data['currency']}/month"
            + (f"; {budgets}" if budgets else ""))
