"""The scheduler: APScheduler 3 with a persistent SQLAlchemy job store in costopt's store.

- collect every N minutes per configured cluster (coalesced, at most one run per cluster at a
  time, with a misfire grace), and on start a backfill of windows missed while it was down;
- analyze every M minutes (so the API's view stays warm);
- the weekly report on a cron schedule (default Monday 06:00 UTC).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from costopt.config import Settings
from costopt.runs import run_task
from costopt.sources.collect import backfill_windows, collect_cluster
from costopt.store import Store

log = logging.getLogger("costopt.scheduler")
RUNNER = "scheduler"  # tags the job runs this scheduler starts (see Store.interrupt_jobs)


def collect_job(config_path: str | None, cluster_name: str) -> None:
    """Top-level (picklable) so the persistent job store can hold it."""
    settings, store = _open(config_path)
    try:
        collect_cluster(settings.cluster(cluster_name), store, settings)
    except Exception as exc:  # recorded in job_runs by collect_cluster
        log.error("collect of %s failed: %s", cluster_name, exc)


def task_job(config_path: str | None, kind: str) -> None:
    settings, store = _open(config_path)
    job_id = store.start_job(kind, None, {"trigger": "schedule"}, status="queued")
    run_task(kind, settings, store, job_id)


def _open(config_path: str | None) -> tuple[Settings, Store]:
    from costopt.config import load_settings

    settings = load_settings(config_path)
    return settings, _scheduler_store(settings)


def _scheduler_store(settings: Settings) -> Store:
    store = Store.open(settings.store_url)
    store.runner = RUNNER
    return store


def backfill_missed(settings: Settings, store: Store) -> int:
    """Collect the windows each cluster missed while nothing was running (bounded)."""
    done = 0
    for cluster in settings.clusters:
        last = store.last_snapshot_time(cluster.name)
        for window in backfill_windows(last, datetime.now(UTC),
                                       settings.schedule.collect_every_minutes)[:-1]:
            try:
                collect_cluster(cluster, store, settings, at=window)
                done += 1
            except Exception as exc:
                log.error("backfill of %s at %s failed: %s", cluster.name, window, exc)
                break
    return done


def build_scheduler(settings: Settings, config_path: str | None) -> BackgroundScheduler:
    schedule = settings.schedule
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.store_url,
                                                 tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": schedule.misfire_grace_seconds},
        timezone=UTC)
    for cluster in settings.clusters:
        scheduler.add_job(collect_job, IntervalTrigger(minutes=schedule.collect_every_minutes),
                          args=[config_path, cluster.name], id=f"collect:{cluster.name}",
                          replace_existing=True)
    scheduler.add_job(task_job, IntervalTrigger(minutes=schedule.analyze_every_minutes),
                      args=[config_path, "analyze"], id="analyze", replace_existing=True)
    scheduler.add_job(task_job, CronTrigger.from_crontab(schedule.report_cron, timezone=UTC),
                      args=[config_path, "report"], id="report", replace_existing=True)
    scheduler.add_job(task_job, CronTrigger.from_crontab(schedule.anomalies_cron, timezone=UTC),
                      args=[config_path, "anomalies"], id="anomalies", replace_existing=True)
    return scheduler


def run_scheduler(settings: Settings, config_path: str | None,
                  poll_seconds: float = 5.0) -> None:
    """Lead or stand by; once leading, backfill missed windows and run the schedules until
    SIGTERM/SIGINT."""
    from jobs.leader import LeaderLock

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    lock = LeaderLock(settings.store_url)
    if not lock.wait(poll_seconds, stopped.is_set):
        return
    store = _scheduler_store(settings)
    interrupted = store.interrupt_jobs(RUNNER, "the scheduler stopped while it ran; the "
                                       "window is collected again by the backfill")
    if interrupted:
        log.warning("marked %d job runs of a stopped scheduler as interrupted",
                    len(interrupted))
    missed = backfill_missed(settings, store)
    if missed:
        log.info("backfilled %d missed collect windows", missed)
    scheduler = build_scheduler(settings, config_path)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("scheduled %s, next run %s", job.id, job.next_run_time)
    stopped.wait()
    scheduler.shutdown(wait=True)
