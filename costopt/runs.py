"""The runs costopt does — collect, analyze, report — as one job each, shared by the
scheduler, the CLI and the API's admin endpoints. Each records a job run with its outcome.

Collect and analyze are domain work and live here. Rendering the report is the report
floor's: it registers its run under the `costopt.runs` entry point (pyproject.toml), so the
API and the scheduler can start any run without importing a floor above the domain.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from typing import Any

from costopt.analyze.analysis import refresh_analysis
from costopt.config import Settings
from costopt.sources.collect import collect_cluster
from costopt.store import Store

log = logging.getLogger("costopt.jobs")

Run = Callable[[Settings, Store], dict[str, Any]]
RUNS_GROUP = "costopt.runs"


def collect_all(settings: Settings, store: Store,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Collect every configured cluster, `schedule.collect_concurrency` at a time; one failing
    cluster does not stop the others."""

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


def analyze_run(settings: Settings, store: Store) -> dict[str, Any]:
    """The analysis of the newest snapshots, left in the store's cache for the API workers:
    only the clusters collected since their cached analysis are analyzed (and loaded)."""
    analyzed = refresh_analysis(store, settings)
    return {"clusters": len(store.clusters()), "analyzed": sorted(analyzed),
            "recommendations": {name: len(a.recommendations) for name, a in analyzed.items()}}


def _collect_run(settings: Settings, store: Store) -> dict[str, Any]:
    return collect_all(settings, store)


BUILT_IN: dict[str, Run] = {"collect": _collect_run, "analyze": analyze_run}


def registered_runs() -> Mapping[str, Run]:
    """The built-in runs and those other floors register (the weekly report)."""
    runs = dict(BUILT_IN)
    for entry in entry_points(group=RUNS_GROUP):
        runs.setdefault(entry.name, entry.load())
    return runs


def run_task(kind: str, settings: Settings, store: Store, job_id: str,
             on_done: Callable[[], None] | None = None,
             runs: Mapping[str, Run] | None = None) -> None:
    """Run a queued job to completion, recording success or the error (never raising)."""
    store.mark_job_running(job_id)
    try:
        known = runs if runs is not None else registered_runs()
        if kind not in known:
            raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(known))} "
                             f"(runs outside the domain register under the {RUNS_GROUP!r} "
                             "entry point: is costopt installed?)")
        store.finish_job(job_id, "succeeded", detail=known[kind](settings, store))
    except Exception as exc:
        log.error("%s job %s failed: %s\n%s", kind, job_id, exc, traceback.format_exc())
        store.finish_job(job_id, "failed", error=str(exc))
    finally:
        if on_done is not None:
            on_done()
