"""Recommendations: filter, read one (with its realized saving once accepted and applied),
and accept, dismiss or snooze one (persisted, with a reason). The rules of what a decision
means live in `costopt.analyze.decisions`, shared with the report, `/metrics` and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import AdminScope, AnalysisDep, ReadScope, StateDep
from api.errors import unprocessable
from api.paging import offset_page
from api.presenters.recommendations import (
    grouped_page,
    recommendation_detail,
    recommendation_with_status,
    recommendations,
)
from api.schemas import (
    Recommendation,
    RecommendationDetail,
    RecommendationPage,
    StatusChange,
)
from costopt.analyze.analysis import target_cost_micros
from costopt.analyze.decisions import TRACKED, Decisions, Status
from costopt.analyze.realized import realized_for_record
from costopt.changes.grouping import GroupBy, group_recommendations, severity_counts
from costopt.rules import Recommendation as DomainRecommendation

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])
Category = Literal["saving", "risk", "watch"]


@router.get("", response_model=RecommendationPage, dependencies=[ReadScope])
def list_recommendations(
    analysis: AnalysisDep, state: StateDep,
    kind: str | None = None, cluster: str | None = None, owner: str | None = None,
    category: Annotated[Category | None, Query(
        description="saving; risk (min.insync.replicas, capacity, misconfiguration); watch "
                    "(a deletion or cut on less history than its rule needs)")]
    = None,
    min_savings: Annotated[Decimal | None, Query(ge=0, allow_inf_nan=False,
                                                 description="monthly, in the currency")]
    = None,
    status: Annotated[Status | None, Query(description="default: open and accepted")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    cursor: str | None = None,
    group_by: Annotated[GroupBy | None, Query(
        description="cause (one cluster, kind and proposed setting) or owner: the groups "
                    "come first, with counts, totals and the single change that covers a "
                    "cause where there is one")] = None,
) -> RecommendationPage:
    """Savings by monthly saving, largest first; then risk findings by severity. Pages with
    `cursor` (the previous page's `next_cursor`) until it is null."""
    recs = [r for r in analysis.recommendations
            if (kind is None or r.kind == kind) and (cluster is None or r.cluster == cluster)
            and (owner is None or r.owner == owner)
            and (category is None or r.category == category)
            and (min_savings is None or r.monthly_savings.amount >= min_savings)]
    stored = state.statuses.statuses()
    if group_by is None:
        items, next_cursor = offset_page(recommendations(recs, stored, status), limit, cursor,
                                         "recommendations")
        return RecommendationPage(items=items, next_cursor=next_cursor)
    shown = [d.recommendation for d in Decisions(stored).visible(recs, status)]
    groups = group_recommendations(shown, group_by)
    ordered = [rec for group in groups for rec in group.items]
    items, next_cursor = offset_page(recommendations(ordered, stored, status), limit, cursor,
                                     f"recommendations:{group_by}")
    return grouped_page(RecommendationPage(items=items, next_cursor=next_cursor), groups,
                        analysis.currency, severity_counts(shown))


def _find(analysis: AnalysisDep, rec_id: str) -> DomainRecommendation | None:
    return next((rec for rec in analysis.recommendations if rec.id == rec_id), None)


@router.get("/{rec_id}", response_model=RecommendationDetail, dependencies=[ReadScope])
def get_recommendation(rec_id: str, analysis: AnalysisDep, state: StateDep
                       ) -> RecommendationDetail:
    """One recommendation with its status; once accepted, whether a later snapshot shows it
    applied, and what it saves at equal traffic beside what it was predicted to save."""
    stored = state.statuses.statuses()
    rec = _find(analysis, rec_id)
    record = stored.get(rec_id)
    if rec is not None:
        cluster = rec.cluster
    elif record is not None:  # applied changes make rules stop firing: the record remains
        cluster = record["recommendation"]["cluster"]
    else:
        raise HTTPException(404, f"unknown recommendation {rec_id!r}")
    realized = None
    if record is not None and record["status"] in TRACKED and cluster in analysis.clusters:
        latest = analysis.clusters[cluster].model.snapshot
        realized = state.memo(analysis, ("realized", rec_id, str(record["updated_at"])),
                              lambda: realized_for_record(state.store, state.settings, record,
                                                          latest))
    return recommendation_detail(rec, record, stored, realized)


@router.post("/{rec_id}/{action}", response_model=Recommendation, dependencies=[AdminScope])
def decide(rec_id: str, action: Literal["accept", "dismiss", "snooze"], body: StatusChange,
           analysis: AnalysisDep, state: StateDep) -> Recommendation:
    """Record a decision. Accepting keeps the snapshot it was accepted on, so the realized
    saving can later be priced at that traffic."""
    rec = _find(analysis, rec_id)
    if rec is None:
        raise HTTPException(404, f"unknown recommendation {rec_id!r}")
    if action == "snooze":
        if body.until is None or body.until.replace(tzinfo=body.until.tzinfo or UTC) <= \
                datetime.now(UTC):
            raise unprocessable("body", "until", "a snooze needs a date in the future")
    elif body.until is not None:
        raise unprocessable("body", "until", "only a snooze takes a date")
    status = {"accept": "accepted", "dismiss": "dismissed", "snooze": "snoozed"}[action]
    cluster = analysis.clusters.get(rec.cluster)
    state.statuses.set_status(rec.to_dict(), status, body.reason, rec.evidence_fingerprint,
                              body.until, target_cost_micros(analysis, rec),
                              cluster.snapshot_id if cluster is not None else None)
    return recommendation_with_status(rec, status, body.reason)
