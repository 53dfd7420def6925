"""Recommendations as the API shows them: the domain's recommendation with its decision (status
and reason), its realized saving once accepted, and the groups of a grouped listing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.schemas import Recommendation, RecommendationDetail, RecommendationPage
from costopt.analyze.decisions import Decided, Decisions, Status
from costopt.analyze.realized import Realized
from costopt.changes.grouping import Group
from costopt.rules import Recommendation as DomainRecommendation


def _fields(recommendation: Mapping[str, Any], status: str, reason: str | None
            ) -> dict[str, Any]:
    return {**recommendation, "status": status, "status_reason": reason}


def decided_recommendation(decided: Decided) -> Recommendation:
    return Recommendation.model_validate(_fields(decided.recommendation.to_dict(),
                                                 decided.status, decided.reason))


def recommendations(recs: Sequence[DomainRecommendation], statuses: Mapping[str, Mapping[str, Any]],
                    status: Status | None = None) -> list[Recommendation]:
    """The recommendations a listing shows (by their stored decisions), each with its status."""
    return [decided_recommendation(d) for d in Decisions(statuses).visible(list(recs), status)]


def recommendation_with_status(rec: DomainRecommendation, status: str, reason: str | None
                               ) -> Recommendation:
    """A recommendation as just decided."""
    return Recommendation.model_validate(_fields(rec.to_dict(), status, reason))


def recommendation_detail(rec: DomainRecommendation | None, record: Mapping[str, Any] | None,
                          statuses: Mapping[str, Mapping[str, Any]], realized: Realized | None
                          ) -> RecommendationDetail:
    """One recommendation: as the analysis has it, else as its decision's record keeps it
    (applied changes make rules stop firing), with its realized saving."""
    if rec is not None:
        decided = Decisions(statuses).decide([rec])[0]
        fields = _fields(rec.to_dict(), decided.status, decided.reason)
    else:
        assert record is not None
        fields = _fields(record["recommendation"], record["status"], record["reason"])
    return RecommendationDetail.model_validate(
        {**fields, "realized": realized.to_dict() if realized is not None else None})


def grouped_page(page: RecommendationPage, groups: Sequence[Group],
                 currency: str, severities: dict[str, int]) -> RecommendationPage:
    """A page of a grouped listing: the page's items, every group and the severity counts."""
    return RecommendationPage.model_validate({
        "items": page.items, "next_cursor": page.next_cursor,
        "groups": [g.to_dict(currency) for g in groups], "severities": severities})
