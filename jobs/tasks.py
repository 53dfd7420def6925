"""The three runs costopt does — collect, analyze, report — shared by the scheduler, the CLI
and the API's admin endpoints. Each records a job run with its outcome."""

from __future__ import annotations

import logging
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costopt.analysis import FleetAnalysis, cached_analysis
from costopt.collect import collect_cluster
from costopt.config import Settings
from costopt.decisions import Decisions
from costopt.realized import realized_for_record
from costopt.store import Store
from costopt.store.store import StatusStore
from reports.weekly import AcceptedRecommendation, write_report

log = logging.getLogger("costopt.jobs")


def collect_all(settings: Settings, store: Store,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Collect every configured cluster, `schedule.collect_concurrency` at a time; one failing
    cluster does not stop the others."""
    from concurrent.futures import ThreadPoolExecutor

    def one(cluster: Any) -> tuple[str, dict[str, Any] | None, str | None]:
        try:
            result = collect_cluster(cluster, store, settings, progress=progress)
            return cluster.name, {"cluster": cluster.name, "topics": result.topics,
                                  "seconds": round(result.seconds, 2)}, None
        except Exception as exc:  # recorded per cluster by collect_cluster
            log.error("collect of %s failed: %s", cluster.name, exc)
            return cluster.name, None, str(exc)

    with ThreadPoolExecutor(max_workers=settings.schedule.collect_concurrency) as pool:
        outcomes = list(pool.map(one, settings.clusters))
    done = [detail for _, detail, _ in outcomes if detail is not None]
    failed = {name: error for name, _, error in outcomes if error is not None}
    if failed and not done:
        raise RuntimeError("every cluster failed: " + "; ".join(
            f"{name}: {error}" for name, error in failed.items()))
    return {"collected": done, "failed": failed}


def accepted_recommendations(store: Store, settings: Settings, analysis: FleetAnalysis
                             ) -> list[AcceptedRecommendation]:
    """Accepted recommendations with what each realized, at equal traffic."""
    out = []
    for record in StatusStore(store).statuses().values():
        if record["status"] != "accepted":
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


def make_report(settings: Settings, store: Store) -> dict[str, Any]:
    """Render the weekly report, archive it in the store, deliver it where configured."""
    from jobs.delivery import deliver

    analysis = cached_analysis(store, settings)
    directory = Path(settings.report.directory or tempfile.mkdtemp(prefix="costopt-report-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    files = write_report(analysis, directory, f"costopt-report-{stamp}",
                         settings.report.grafana_url,
                         accepted_recommendations(store, settings, analysis),
                         Decisions(StatusStore(store).statuses()),
                         latest_reconciliation(store, settings, analysis))
    html = files.html.read_text()
    import json

    summary = json.loads(files.json.read_text())["fleet"]
    report_id = StatusStore(store).save_report(f"Weekly report {stamp}", html, summary)
    delivered = deliver(settings.report, summary, report_id, files.html)
    return {"report_id": report_id, "html": str(files.html), "delivered": delivered}


def run_task(kind: str, settings: Settings, store: Store, job_id: str,
             on_done: Callable[[], None] | None = None) -> None:
    """Run a queued job to completion, recording success or the error (never raising)."""
    store.mark_job_running(job_id)
    try:
        if kind == "collect":
            detail = collect_all(settings, store)
        elif kind == "analyze":
            analysis = cached_analysis(store, settings)
            detail = {"clusters": len(analysis.clusters),
                      "recommendations": len(analysis.recommendations)}
        elif kind == "report":
            detail = make_report(settings, store)
        else:
            raise ValueError(f"unknown job kind {kind!r}")
        store.finish_job(job_id, "succeeded", detail=detail)
    except Exception as exc:
        log.error("%s job %s failed: %s\n%s", kind, job_id, exc, traceback.format_exc())
        store.finish_job(job_id, "failed", error=str(exc))
    finally:
        if on_done is not None:
            on_done()
