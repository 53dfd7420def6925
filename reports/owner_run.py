"""Team pages as a run: `costopt report --owner TEAM` for one, and every owner's with the
scheduled report where `report.per_owner` is on, each delivered to its team's webhook."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.budget.fleet_budgets import budget_statuses
from costopt.config import Settings
from costopt.store import Store
from costopt.store.store import StatusStore
from reports.delivery import deliver_to_owner
from reports.owner_page import OwnerContext, owner_message, write_owner_page

log = logging.getLogger("costopt.jobs")


def owner_context(analysis: FleetAnalysis, store: Store, settings: Settings,
                  budgets: Sequence[dict[str, Any]] | None = None) -> OwnerContext:
    if budgets is None:
        budgets = [b.to_dict() for b in budget_statuses(analysis, store, settings)]
    return OwnerContext.of(analysis, Decisions(StatusStore(store).statuses()), budgets, store)


def write_owner_pages(context: OwnerContext, settings: Settings, directory: Path,
                      owners: Sequence[str] | None = None, fleet_report: str | None = None
                      ) -> dict[str, dict[str, Any]]:
    """Each owner's page in `directory`, delivered where the team has a webhook: by owner,
    the page's file name and whether delivery worked (None: no webhook)."""
    out = {}
    for owner in owners if owners is not None else context.owners():
        html, data = write_owner_page(context, owner, directory, fleet_report)
        delivered = deliver_to_owner(settings.report, owner, owner_message(data))
        out[owner] = {"page": html.name, "delivered": delivered}
    log.info("team pages: %d written, %d delivered", len(out),
             sum(1 for page in out.values() if page["delivered"]))
    return out
