"""Anomaly notices through the report's delivery: one webhook message when an anomaly opens
and one when it resolves. Each is claimed in the store before it is sent (a unique key,
insert-if-absent), so two scheduler replicas, or one restarted, send it once; a failed send
gives its claim back for the next run."""

from __future__ import annotations

import logging
from typing import Any

from costopt.analyze.analysis import cached_analysis
from costopt.anomalies.service import refresh
from costopt.config import Settings
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore, Notice
from reports.delivery import post_webhook

log = logging.getLogger("costopt.anomalies")


def notice_text(notice: Notice) -> str:
    anomaly = notice.anomaly
    where = (f"{anomaly['cluster']}/{anomaly['item']}" if anomaly["scope"] == "topic"
             else anomaly["item"])
    driver = anomaly["driver"]
    cause = driver.get("change") or f"{driver.get('figure')} moved"
    if notice.event == "resolved":
        return (f"costopt: cost anomaly resolved on {anomaly['resolved_on']}: "
                f"{anomaly['scope']} {where} (was {anomaly['impact_monthly']} "
                f"{anomaly['currency']}/month since {anomaly['start']}; {cause})")
    return (f"costopt: cost anomaly on {anomaly['scope']} {where}: "
            f"+{anomaly['impact_monthly']} {anomaly['currency']}/month since "
            f"{anomaly['start']}; driver {driver.get('figure')}: {cause}")


def send_notices(store: Store, settings: Settings) -> dict[str, int]:
    """Send every notice owed and not yet claimed; returns how many were sent, skipped
    (claimed by another replica) and failed."""
    anomalies = AnomalyStore(store)
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    if settings.report.webhook_url is None:
        return counts
    for notice in anomalies.unsent():
        if not anomalies.claim(notice):
            counts["skipped"] += 1
            continue
        if post_webhook(settings.report, {"text": notice_text(notice),
                                          "anomaly": _plain(notice)}):
            counts["sent"] += 1
        else:
            anomalies.release(notice)
            counts["failed"] += 1
    return counts


def _plain(notice: Notice) -> dict[str, Any]:
    return {key: (value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in {**notice.anomaly, "event": notice.event}.items()}


def anomalies_run(settings: Settings, store: Store) -> dict[str, Any]:
    """The scheduled run: detect over the stored history, store, notify."""
    found, _notices = refresh(store, settings, cached_analysis(store, settings))
    counts = send_notices(store, settings)
    log.info("anomalies: %d found, notices %s", len(found), counts)
    return {"anomalies": len(found), "open": sum(1 for a in found if a.state == "open"),
            **counts}
