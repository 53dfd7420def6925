"""A what-if as the API shows it: the bill before and after (now and at the horizon) by
component, the delta, a page of the changed topics, capacity, and the plan it replayed."""

from __future__ import annotations

from api.schemas import (
    Capacity,
    Delta,
    PlanReplayed,
    Total,
    WhatIfResponse,
    WhatIfTopic,
)
from costopt.analyze.plan import SavingsPlan
from costopt.base.money import Money, rounded
from costopt.whatif import WhatIfResult


def _total(money: Money, by_component: dict[str, Money]) -> Total:
    return Total(monthly_cost=str(money.rounded()), currency=money.currency, period="month",
                 by_component={c: str(m.rounded()) for c, m in by_component.items()})


def _delta(result: WhatIfResult) -> Delta:
    baseline = result.baseline.amount
    return Delta(monthly_cost=str(result.delta.rounded()), currency=result.currency,
                 period="month",
                 percent=round(float(result.delta.amount / baseline * 100), 3) if baseline
                 else None)


def _topics(result: WhatIfResult, order: list[int]) -> list[WhatIfTopic]:
    topics = result.topics
    return [WhatIfTopic(cluster=str(topics.cluster[i]), topic=str(topics.topic[i]),
                        owner=str(topics.owner[i]),
                        baseline_monthly_cost=rounded(topics.baseline_micros[i]),
                        projected_monthly_cost=rounded(topics.projected_micros[i]),
                        delta_monthly_cost=rounded(topics.projected_micros[i]
                                                   - topics.baseline_micros[i]))
            for i in order]


def _replayed(replayed: tuple[SavingsPlan, int] | None) -> PlanReplayed | None:
    if replayed is None:
        return None
    plan, left_out = replayed
    return PlanReplayed(steps=len(plan.steps), left_out=left_out,
                        savings=str(plan.total_savings.rounded()), currency=plan.currency,
                        period="month")


def whatif_response(result: WhatIfResult, order: list[int], topics_next_cursor: str | None,
                    replayed: tuple[SavingsPlan, int] | None) -> WhatIfResponse:
    """The answer to a what-if, with the changed topics at `order` (a page of them) and,
    for a replayed plan, the plan as projected and how many steps it left out."""
    return WhatIfResponse(
        baseline=_total(result.baseline, result.baseline_by_component),
        projected=_total(result.projected, result.projected_by_component),
        projected_at_horizon=_total(result.projected_at_horizon,
                                    result.projected_at_horizon_by_component),
        delta=_delta(result), horizon_days=result.horizon_days,
        topics=_topics(result, order), topics_total=len(result.topics),
        topics_next_cursor=topics_next_cursor,
        capacity=[Capacity.model_validate(vars(c)) for c in result.capacity],
        warnings=result.warnings, plan=_replayed(replayed))
