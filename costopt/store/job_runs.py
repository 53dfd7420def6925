"""Where job runs are kept: collect, analyze, report and anomalies runs, scheduled or
triggered, with their status and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from costopt.store import schema
from costopt.store.database import Database, _utc


class JobRuns(Database):
    """Runs: started, marked running, finished, listed newest first."""

    def start_job(self, kind: str, cluster: str | None = None,
                  detail: dict[str, Any] | None = None, status: str = "running") -> str:
        job_id = uuid.uuid4().hex
        detail = dict(detail or {})
        if self.runner is not None:
            detail["runner"] = self.runner
        with self.transaction() as connection:
            connection.execute(insert(schema.job_runs).values(
                id=job_id, kind=kind, cluster=cluster, status=status,
                started_at=datetime.now(UTC), detail=detail))
        return job_id

    def interrupt_jobs(self, runner: str, reason: str) -> list[str]:
        """Mark as failed the runs `runner` left queued or running (its process died), so
        none shows as running forever; returns their ids."""
        with self.transaction() as connection:
            rows = connection.execute(select(schema.job_runs.c.id, schema.job_runs.c.detail)
                                      .where(schema.job_runs.c.status.in_(("queued",
                                                                           "running"))))
            ids = [row.id for row in rows if (row.detail or {}).get("runner") == runner]
            if ids:
                connection.execute(schema.job_runs.update().where(
                    schema.job_runs.c.id.in_(ids)).values(
                    status="failed", finished_at=datetime.now(UTC),
                    error=f"interrupted: {reason}"))
        return ids

    def mark_job_running(self, job_id: str) -> None:
        with self.transaction() as connection:
            connection.execute(schema.job_runs.update().where(schema.job_runs.c.id == job_id)
                               .values(status="running"))

    def finish_job(self, job_id: str, status: str, error: str | None = None,
                   detail: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": datetime.now(UTC),
                                  "error": error}
        if detail is not None:
            values["detail"] = detail
        with self.transaction() as connection:
            connection.execute(schema.job_runs.update()
                               .where(schema.job_runs.c.id == job_id).values(**values))

    def jobs(self, limit: int = 50, kind: str | None = None,
             before: tuple[datetime, str] | None = None) -> list[dict[str, Any]]:
        """Runs newest first (ties by id); `before` (started_at, id) pages on from a run."""
        table = schema.job_runs
        query = select(table).order_by(table.c.started_at.desc(), table.c.id.desc())
        if kind is not None:
            query = query.where(table.c.kind == kind)
        if before is not None:
            started, job_id = _utc(before[0]), before[1]
            query = query.where((table.c.started_at < started)
                                | ((table.c.started_at == started) & (table.c.id < job_id)))
        with self.engine.connect() as connection:
            return [_job_record(row) for row in connection.execute(query.limit(limit)).mappings()]

    def last_succeeded_detail(self, kind: str, cluster: str) -> dict[str, Any]:
        """The detail of the cluster's newest succeeded run of `kind` ({} if none): what a
        run leaves for the next (a collect's census of the cluster's series)."""
        table = schema.job_runs
        query = (select(table.c.detail)
                 .where(table.c.kind == kind, table.c.cluster == cluster,
                        table.c.status == "succeeded")
                 .order_by(table.c.started_at.desc(), table.c.id.desc()).limit(1))
        with self.engine.connect() as connection:
            detail = connection.execute(query).scalar()
        return dict(detail) if isinstance(detail, dict) else {}

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.job_runs).where(
                schema.job_runs.c.id == job_id)).mappings().first()
            return _job_record(row) if row else None


def _job_record(row: Any) -> dict[str, Any]:
    record = dict(row)
    for key in ("started_at", "finished_at"):
        if record[key] is not None:
            record[key] = _utc(record[key])
    return record
