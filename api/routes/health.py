"""Liveness and readiness. Readiness fails while the store is unreachable, and while the
worker is still loading its first analysis (so a load balancer sends no request that would
wait for it); it reports the last collect's outcome, so an orchestrator and a human see the
same thing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import StateDep
from api.presenters.health import health, readiness
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> Health:
    state = request.app.state.costopt
    if not state.settings.api.open_healthz:
        from api.auth import check_scope

        check_scope(request, "read")
    return health()


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with state.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unreachable: {type(exc).__name__}"
        return readiness(False, checks)
    for job in state.store.jobs(limit=20, kind="collect"):
        if job["status"] in ("succeeded", "failed"):
            key = f"last_collect:{job['cluster'] or 'all'}"
            if key not in checks:
                checks[key] = job["status"] if job["status"] == "succeeded" else (
                    f"failed: {job['error']}")
    checks["analysis"] = state.warmed
    return readiness(state.warmed != "loading", checks)
