"""Recommendations: filter, and accept, dismiss or snooze one (persisted, with a reason).

A dismissed recommendation stays hidden while its evidence is materially the same (its
fingerprint, evidence rounded to two significant figures); when the evidence changes, it is
raised again. A snoozed one is hidden until its date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import AdminScope, AnalysisDep, ReadScope, StateDep
from api.routes._common import unprocessable
from api.schemas import Page, Recommendation, StatusChange
from api.state import AppState
from costopt.rules import Recommendation as DomainRecommendation

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])
Status = Literal["open", "accepted", "dismissed", "snoozed"]


def status_of(rec: DomainRecommendation, stored: dict[str, Any] | None,
              now: datetime) -> tuple[Status, str | None]:
    if stored is None:
        return "open", None
    if stored["status"] == "dismissed" and stored["evidence_fingerprint"] != \
            rec.evidence_fingerprint:
        return "open", None  # the evidence changed materially: raise it again
    if stored["status"] == "snoozed" and stored["snoozed_until"] is not None and \
            stored["snoozed_until"] <= now:
        return "open", None
    return stored["status"], stored["reason"]


def recommendation_items(recs: list[DomainRecommendation], state: AppState,
                         status: Status | None = None) -> list[dict[str, Any]]:
    stored = state.statuses.statuses()
    now = datetime.now(UTC)
    items = []
    for rec in recs:
        current, reason = status_of(rec, stored.get(rec.id), now)
        if status is None and current in ("dismissed", "snoozed"):
            continue
        if status is not None and current != status:
            continue
        items.append({**rec.to_dict(), "status": current, "status_reason": reason})
    return items


@router.get("", response_model=Page[Recommendation], dependencies=[ReadScope])
def list_recommendations(
    analysis: AnalysisDep, state: StateDep,
    kind: str | None = None, cluster: str | None = None, owner: str | None = None,
    min_savings: Annotated[Decimal | None, Query(ge=0, allow_inf_nan=False,
                                                 description="monthly, in the currency")]
    = None,
    status: Annotated[Status | None, Query(description="default: open and accepted")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> dict:
    """Recommendations by monthly savings, largest first."""
    recs = [r for r in analysis.recommendations
            if (kind is None or r.kind == kind) and (cluster is None or r.cluster == cluster)
            and (owner is None or r.owner == owner)
            and (min_savings is None or r.monthly_savings.amount >= min_savings)]
    return {"items": recommendation_items(recs, state, status)[:limit], "next_cursor": None}


def _find(analysis: AnalysisDep, rec_id: str) -> DomainRecommendation:
    for rec in analysis.recommendations:
        if rec.id == rec_id:
            return rec
    raise HTTPException(404, f"unknown recommendation {rec_id!r}")


def _target_cost_micros(analysis: AnalysisDep, rec: DomainRecommendation) -> int | None:
    cluster = analysis.clusters.get(rec.cluster)
    if cluster is None:
        return None
    if rec.target_type == "cluster":
        return sum(cluster.model.cost.bill_micros.values())
    rows = cluster.model.cost.rows
    match = rows.loc[rows["topic"] == rec.target, "monthly_cost_micros"]
    return int(match.iloc[0]) if len(match) else None


@router.post("/{rec_id}/{action}", response_model=Recommendation, dependencies=[AdminScope])
def decide(rec_id: str, action: Literal["accept", "dismiss", "snooze"], body: StatusChange,
           analysis: AnalysisDep, state: StateDep) -> dict:
    """Record a decision. Accepting stores the target's cost now, so the weekly report can
    show what the change really saved."""
    rec = _find(analysis, rec_id)
    if action == "snooze":
        if body.until is None or body.until.replace(tzinfo=body.until.tzinfo or UTC) <= \
                datetime.now(UTC):
            raise unprocessable("body", "until", "a snooze needs a date in the future")
    elif body.until is not None:
        raise unprocessable("body", "until", "only a snooze takes a date")
    status = {"accept": "accepted", "dismiss": "dismissed", "snooze": "snoozed"}[action]
    state.statuses.set_status(rec.to_dict(), status, body.reason, rec.evidence_fingerprint,
                              body.until, _target_cost_micros(analysis, rec))
    return {**rec.to_dict(), "status": status, "status_reason": body.reason}
