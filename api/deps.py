"""Dependencies as `Annotated` aliases so handlers read like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import require
from api.state import AppState
from costopt.analysis import FleetAnalysis


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.costopt
    return state


def get_analysis(request: Request) -> FleetAnalysis:
    return get_state(request).analysis()


StateDep = Annotated[AppState, Depends(get_state)]
AnalysisDep = Annotated[FleetAnalysis, Depends(get_analysis)]
ReadScope = Depends(require("read"))
AdminScope = Depends(require("admin"))
