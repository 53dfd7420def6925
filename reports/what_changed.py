"""The report's "What changed" section: the cost anomalies open now and those resolved over
the period, each with its driver and monthly-rate impact, for the fleet or for one owner (the
per-owner digest renders the same section with `owner`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

Record = Mapping[str, Any]


def _mine(record: Record, owner: str | None) -> bool:
    return owner is None or record.get("owner") == owner


def what_changed(anomalies: Sequence[Record], owner: str | None = None) -> dict[str, Any]:
    """The section's data: open anomalies (largest impact first) and resolved ones (newest
    first), with the open ones' total impact, in the anomalies' currency."""
    mine = [a for a in anomalies if _mine(a, owner)]
    rows = [{
        "id": a["id"], "scope": a["scope"], "cluster": a.get("cluster"), "item": a["item"],
        "owner": a.get("owner"), "state": a["state"], "start": a["start"],
        "resolved_on": a.get("resolved_on"), "impact_monthly": str(a["impact_monthly"]),
        "currency": a["currency"], "period": "month",
        "figure": a["driver"].get("figure"), "driver": a["driver"].get("change")
        or f"{a['driver'].get('figure')} moved", "driver_kind": a["driver"].get("kind"),
    } for a in mine]
    opened = sorted((r for r in rows if r["state"] == "open"),
                    key=lambda r: -Decimal(r["impact_monthly"]))
    resolved = sorted((r for r in rows if r["state"] == "resolved"),
                      key=lambda r: str(r["resolved_on"]), reverse=True)
    currencies = {r["currency"] for r in opened}
    return {"owner": owner, "open": opened, "resolved": resolved,
            "open_impact_monthly": str(sum((Decimal(r["impact_monthly"]) for r in opened),
                                           Decimal(0))),
            "currency": currencies.pop() if len(currencies) == 1 else None}


def render_what_changed(anomalies: Sequence[Record], owner: str | None = None) -> str:
    """The section as HTML (a `<section>`), for the fleet report or one owner's page."""
    environment = Environment(loader=PackageLoader("reports", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("what_changed.html.j2").render(
        section=what_changed(anomalies, owner))


def summary_lines(anomalies: Sequence[Record], owner: str | None = None) -> list[str]:
    """The section for a console: one line per open anomaly, largest first."""
    section = what_changed(anomalies, owner)
    if not section["open"]:
        return ["what changed: no cost anomaly above the floor"]
    lines = [f"what changed: {len(section['open'])} open cost anomalies"
             + (f", +{section['open_impact_monthly']} {section['currency']}/month"
                if section["currency"] else "")]
    for row in section["open"]:
        where = f"{row['cluster']}/{row['item']}" if row["scope"] == "topic" else row["item"]
        lines.append(f"  +{Decimal(row['impact_monthly']):>10,.2f} {row['currency']}/month "
                     f"since {row['start']}  {row['scope']} {where}: {row['figure']}: "
                     f"{row['driver']}")
    return lines
