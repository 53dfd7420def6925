"""The savings plan: the open recommendations that apply together, in order, each priced on
the fleet as changed by the steps before it. Its total is "savings available" everywhere
(the report's headline and `/metrics` use the same plan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import AnalysisDep, ReadScope, StateDep
from api.paging import offset_page
from api.presenters.plan import plan_page
from api.schemas import Plan
from costopt.analyze.decisions import Decisions
from costopt.changes.export import Format, export_plan, zipped
from costopt.changes.topic_changes import selected_steps

router = APIRouter(prefix="/v1/plan", tags=["plan"], dependencies=[ReadScope])


@router.get("", response_model=Plan)
def get_plan(analysis: AnalysisDep, state: StateDep,
             limit: Annotated[int, Query(ge=1, le=5000)] = 500,
             cursor: str | None = None) -> Plan:
    """Steps in order with marginal and cumulative monthly savings, capacity freed and risk;
    `savings` is the plan's total, equal to one what-if of every step's changes together."""
    plan = analysis.plan(Decisions(state.statuses.statuses()))
    steps, next_cursor = offset_page(plan.steps, limit, cursor, "plan")
    return plan_page(plan, steps, next_cursor)


@router.get("/export", response_class=Response, responses={
    200: {"content": {"application/zip": {}, "text/plain": {}},
          "description": "one text file, or a zip where the format makes several"}})
def export(analysis: AnalysisDep, state: StateDep, format: Format,
           step: Annotated[list[str] | None, Query(description="step number or id")] = None,
           kind: Annotated[list[str] | None, Query()] = None,
           cluster: str | None = None) -> Response:
    """The plan (or the chosen steps) as a change set: kafka-configs scripts, Strimzi
    KafkaTopic resources, Terraform topics or Cruise Control calls, with client-side
    settings as a file per owner. Every file names each change's plan step, recommendation
    id and monthly saving."""
    plan = analysis.plan(Decisions(state.statuses.statuses()))
    chosen = selected_steps(plan, step or (), kind or (), cluster)
    files = export_plan(plan, chosen, analysis.models, format,
                        {c.name: c.bootstrap_servers for c in state.settings.clusters})
    if len(files) == 1:
        return PlainTextResponse(files[0].text, headers={
            "Content-Disposition": f'attachment; filename="{files[0].path.split("/")[-1]}"'})
    return Response(zipped(files), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="costopt-plan-{format}.zip"'})
