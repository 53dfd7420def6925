"""What-if projections over the analyzed fleet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import AnalysisDep, ReadScope, StateDep
from api.errors import unprocessable
from api.paging import next_offset_cursor, offset_of
from api.presenters.whatif import whatif_response
from api.schemas import WhatIfRequest, WhatIfResponse
from costopt.analyze.analysis import FleetAnalysis
from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import SavingsPlan, replay_plan
from costopt.base.errors import InvalidInput
from costopt.prices.catalog import builtin_catalog_names, load_builtin_catalog
from costopt.whatif import Change, run_whatif

router = APIRouter(prefix="/v1/whatif", tags=["whatif"], dependencies=[ReadScope])
TOPICS = "whatif-topics"  # the kind of a cursor over the changed topics


def _named_topics_only(request: WhatIfRequest) -> bool:
    """Changes to named topics cost a millisecond: worth answering on the event loop."""
    return request.plan is None and all(
        c.selector.topic is not None and c.selector.pattern is None and not c.touches_cluster
        for c in request.changes)


@router.post("", response_model=WhatIfResponse)
async def whatif_endpoint(
        request: WhatIfRequest, analysis: AnalysisDep, state: StateDep,
        limit: Annotated[int, Query(ge=1, le=10_000, description="changed topics per page")]
        = 1000,
        cursor: Annotated[str | None, Query(description="`topics_next_cursor` of the "
                                                        "previous page")] = None,
) -> WhatIfResponse:
    """Apply the changes, in order, to the selected topics and project the monthly cost:
    baseline, projected now, projected at the horizon (with each topic's measured growth),
    the delta, and the changed topics, largest absolute delta first (`topics_total` of
    them; page with `cursor`). With `plan` instead of `changes`: the savings plan's changes
    (as `GET /v1/plan` lists it, less `exclude` or only `include`), its total in `plan`."""
    decisions = Decisions(state.statuses.statuses())
    if _named_topics_only(request):
        return whatif(request, analysis, limit, cursor, decisions)
    # Fleet-wide: off the event loop.
    return await run_in_threadpool(whatif, request, analysis, limit, cursor, decisions)


def _replayed(request: WhatIfRequest, analysis: FleetAnalysis,
              decisions: Decisions) -> tuple[SavingsPlan, int]:
    """The plan the request asks for, and how many of the current plan's steps it leaves
    out."""
    assert request.plan is not None
    plan = analysis.plan(decisions)
    try:
        replayed = replay_plan(plan, analysis.models, analysis.histories,
                               analysis.recommendations, decisions, analysis.rule_settings,
                               exclude=request.plan.exclude or (),
                               include=request.plan.include)
    except InvalidInput as exc:
        field = "plan.include" if request.plan.include is not None else "plan.exclude"
        raise unprocessable("body", field, str(exc)) from None
    ids = {s.recommendation.id for s in replayed.steps}
    return replayed, sum(1 for s in plan.steps if s.recommendation.id not in ids)


def whatif(request: WhatIfRequest, analysis: FleetAnalysis, limit: int = 1000,
           cursor: str | None = None, decisions: Decisions | None = None) -> WhatIfResponse:
    replayed: tuple[SavingsPlan, int] | None = None
    changes: list[Change] = request.changes
    if request.plan is not None:
        replayed = _replayed(request, analysis, decisions or Decisions())
        changes = replayed[0].changes()
    start = offset_of(cursor, TOPICS)
    for change in changes:
        if change.catalog is not None and change.catalog not in builtin_catalog_names():
            raise unprocessable("body", "changes.catalog",
                                f"{change.catalog!r} is not a built-in catalog "
                                f"({', '.join(builtin_catalog_names())}); files are "
                                "configured, not sent")
    try:
        result = run_whatif(analysis.models, changes, request.horizon_days,
                            resolve_catalog=load_builtin_catalog)
    except InvalidInput as exc:  # a change that cannot be applied: name it in the body
        raise unprocessable("body", "changes", str(exc)) from None
    order = result.topics.largest_first(start + limit)[start:]
    return whatif_response(result, order.tolist(),
                           next_offset_cursor(TOPICS, start, limit, len(result.topics)),
                           replayed)
