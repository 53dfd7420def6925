"""Liveness and readiness as the API answers them (an orchestrator and a human read the same
checks)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from api.schemas import Health


def health(checks: dict[str, str] | None = None) -> Health:
    return Health(status="ok", checks=checks or {})


def readiness(ready: bool, checks: dict[str, str]) -> JSONResponse:
    """200 with the checks when ready, else 503 with them."""
    answer = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(answer.model_dump(), status_code=200 if ready else 503)
