"""Dependencies as `Annotated` aliases so handlers read like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import require
from api.state import AppState
from costopt.analyze.analysis import FleetAnalysis


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.costopt
    return state


async def get_analysis(request: Request) -> FleetAnalysis:
    """The current analysis, without a thread hop when it is fresh (the common case); loading
    or computing a new one runs in a thread, off the event loop."""
    state: AppState = request.app.state.costopt
    fresh = state.fresh_analysis()
    return fresh if fresh is not None else await run_in_threadpool(state.analysis)


StateDep = Annotated[AppState, Depends(get_state)]
AnalysisDep = Annotated[FleetAnalysis, Depends(get_analysis)]
ReadScope = Depends(require("read"))
AdminScope = Depends(require("admin"))
