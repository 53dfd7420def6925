"""The savings plan: the open recommendations that apply together, in order, each priced on
the fleet as changed by the steps before it. Its total is "savings available" everywhere
(the report's headline and `/metrics` use the same plan)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import unprocessable
from api.schemas import Plan
from costopt.changes.export import Format, export_plan, zipped
from costopt.changes.topic_changes import selected_steps
from costopt.decisions import Decisions
from costopt.money import Money

REPLAY = {
    "method": "POST", "path": "/v1/whatif", "body": {"plan": {}},
    "without_steps": {"plan": {"exclude": ["<step id>", "..."]}},
    "only_steps": {"plan": {"include": ["<step id>", "..."]}},
    "note": "projects this plan's changes in one what-if: its delta is -savings, to the cent; "
            "with exclude (or include) the plan is rebuilt by its own rules without the steps "
            "left out (a broker-sizing step left out leaves its cluster unresized)",
}
router = APIRouter(prefix="/v1/plan", tags=["plan"], dependencies=[ReadScope])


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        step = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("step:"))
    except (ValueError, UnicodeDecodeError):
        raise unprocessable("query", "cursor", "not a cursor this API issued") from None
    if step < 0:
        raise unprocessable("query", "cursor", "not a cursor this API issued")
    return step


@router.get("", response_model=Plan)
def get_plan(analysis: AnalysisDep, state: StateDep,
             limit: Annotated[int, Query(ge=1, le=5000)] = 500,
             cursor: str | None = None) -> dict[str, Any]:
    """Steps in order with marginal and cumulative monthly savings, capacity freed and risk;
    `savings` is the plan's total, equal to one what-if of every step's changes together."""
    plan = analysis.plan(Decisions(state.statuses.statuses()))
    after = _after(cursor)
    page = plan.steps[after:after + limit]
    more = after + limit < len(plan.steps)
    currency = plan.currency
    return {
        "monthly_cost": str(Money.from_micros(plan.bill_micros, currency).rounded()),
        "savings": str(plan.total_savings.rounded()),
        "share_of_bill": round(plan.share_of_bill, 4),
        "currency": currency, "period": "month", "total_steps": len(plan.steps),
        "skipped": plan.skipped,
        "steps": [step.to_dict(currency) for step in page],
        "next_cursor": base64.urlsafe_b64encode(f"step:{after + limit}".encode()).decode()
        if more else None,
        "replay": REPLAY,
    }


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
