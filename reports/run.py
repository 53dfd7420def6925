"""The weekly report as a run: render it from the cached analysis, archive it in the store,
deliver it where configured. Registered as the `report` run (pyproject.toml's
`costopt.runs` entry point), which is how the scheduler and the API start it."""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costopt.analyze.analysis import FleetAnalysis, cached_analysis
from costopt.analyze.decisions import TRACKED, Decisions
from costopt.analyze.realized import realized_for_record
from costopt.anomalies.service import refresh
from costopt.budget.fleet_budgets import budget_statuses
from costopt.config import Settings
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore
from costopt.store.store import StatusStore
from reports.delivery import deliver
from reports.owner_run import owner_context, write_owner_pages
from reports.weekly import AcceptedRecommendation, write_report

# The report's "What changed" lists at most this many anomalies, newest first.
REPORT_ANOMALIES = 200
log = logging.getLogger("costopt.jobs")


def accepted_recommendations(store: Store, settings: Settings, analysis: FleetAnalysis
                             ) -> list[AcceptedRecommendation]:
    """Accepted (and applied) recommendations with what each realized, at equal traffic."""
    out = []
    for record in StatusStore(store).statuses().values():
        if record["status"] not in TRACKED:
            continue
        cluster = analysis.clusters.get(record["cluster"])
        if cluster is None:
            continue
        realized = realized_for_record(store, settings, record, cluster.model.snapshot)
        out.append(AcceptedRecommendation(record["recommendation"], record["updated_at"],
                                          realized))
    return out


def latest_reconciliation(store: Store, settings: Settings, analysis: FleetAnalysis
                          ) -> dict[str, Any] | None:
    """Estimate vs bill for the newest month with a bill, for the report (None: no bill, or
    one that cannot be reconciled, which is logged)."""
    from costopt.billing.month import latest_billed_month, reconcile

    month = latest_billed_month(store)
    if month is None:
        return None
    try:
        return reconcile(analysis, store, settings, month).to_dict()
    except ValueError as exc:
        log.error("the bill of %s cannot be reconciled: %s", month, exc)
        return None


def team_pages(analysis: FleetAnalysis, store: Store, settings: Settings,
               budgets: list[dict[str, Any]], directory: Path, stamp: str) -> dict[str, str]:
    """Every owner's page beside the fleet report, where `report.per_owner` is on: the
    fleet report's link to each (owner -> relative path)."""
    if not settings.report.per_owner:
        return {}
    folder = f"costopt-report-{stamp}-owners"
    pages = write_owner_pages(owner_context(analysis, store, settings, budgets), settings,
                              directory / folder,
                              fleet_report=f"../costopt-report-{stamp}.html")
    return {owner: f"{folder}/{page['page']}" for owner, page in pages.items()}


def make_report(settings: Settings, store: Store) -> dict[str, Any]:
    """Render the weekly report, archive it in the store, deliver it where configured."""
    analysis = cached_analysis(store, settings)
    refresh(store, settings, analysis)  # notices owed are sent by the anomalies run
    directory = Path(settings.report.directory or tempfile.mkdtemp(prefix="costopt-report-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    budgets = [b.to_dict() for b in budget_statuses(analysis, store, settings)]
    owner_pages = team_pages(analysis, store, settings, budgets, directory, stamp)
    files = write_report(analysis, directory, f"costopt-report-{stamp}",
                         settings.report.grafana_url,
                         accepted_recommendations(store, settings, analysis),
                         Decisions(StatusStore(store).statuses()),
                         latest_reconciliation(store, settings, analysis), budgets,
                         owner_pages, AnomalyStore(store).list(limit=REPORT_ANOMALIES))
    html = files.html.read_text()
    summary = json.loads(files.json.read_text())["fleet"]
    report_id = StatusStore(store).save_report(f"Weekly report {stamp}", html, summary)
    delivered = deliver(settings.report, summary, report_id, files.html)
    return {"report_id": report_id, "html": str(files.html), "delivered": delivered}
