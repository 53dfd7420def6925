"""Admin: trigger a collect, analyze, report or anomalies run; follow it by id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import AdminScope, StateDep
from api.paging import decode_cursor, keyset_page
from api.presenters.jobs import job, jobs_page
from api.schemas import Job, Page
from costopt.runs import run_task

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[AdminScope])

# The runs a caller may queue (each registered under the `costopt.runs` entry point).
JobKind = Literal["collect", "analyze", "report", "anomalies"]


@router.get("", response_model=Page[Job])
def list_jobs(state: StateDep, kind: JobKind | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              cursor: str | None = None) -> Page[Job]:
    """Runs, newest first (scheduled and triggered), with their errors; page with `cursor`."""
    key = decode_cursor(cursor, f"jobs:{kind}", 2)
    before = (datetime.fromisoformat(str(key[0])), str(key[1])) if key is not None else None
    records = state.store.jobs(limit=limit + 1, kind=kind, before=before)
    return jobs_page(*keyset_page(records, limit, f"jobs:{kind}",
                                  lambda r: [r["started_at"].isoformat(), r["id"]]))


@router.post("/{kind}", response_model=Job, status_code=202)
def trigger(kind: JobKind, state: StateDep) -> Job:
    job_id = state.store.start_job(kind, None, {"trigger": "api"}, status="queued")
    state.jobs.submit(run_task, kind, state.settings, state.store, job_id, state.invalidate)
    record = state.store.job(job_id)
    assert record is not None
    return job(record)


@router.get("/{job_id}", response_model=Job)
def get_job(job_id: str, state: StateDep) -> Job:
    record = state.store.job(job_id)
    if record is None:
        raise HTTPException(404, f"unknown job {job_id!r}")
    return job(record)
