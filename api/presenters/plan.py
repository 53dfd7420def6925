"""The savings plan as the API shows it: its total, a page of its steps, and how to replay
it in one what-if."""

from __future__ import annotations

from typing import Any

from api.schemas import Plan
from costopt.analyze.plan import PlanStep, SavingsPlan
from costopt.base.money import Money

REPLAY: dict[str, Any] = {
    "method": "POST", "path": "/v1/whatif", "body": {"plan": {}},
    "without_steps": {"plan": {"exclude": ["<step id>", "..."]}},
    "only_steps": {"plan": {"include": ["<step id>", "..."]}},
    "note": "projects this plan's changes in one what-if: its delta is -savings, to the cent; "
            "with exclude (or include) the plan is rebuilt by its own rules without the steps "
            "left out (a broker-sizing step left out leaves its cluster unresized)",
}


def plan_page(plan: SavingsPlan, steps: list[PlanStep], next_cursor: str | None) -> Plan:
    """The plan's figures and one page of its steps."""
    currency = plan.currency
    return Plan.model_validate({
        "monthly_cost": str(Money.from_micros(plan.bill_micros, currency).rounded()),
        "savings": str(plan.total_savings.rounded()),
        "share_of_bill": round(plan.share_of_bill, 4),
        "currency": currency, "period": "month", "total_steps": len(plan.steps),
        "skipped": plan.skipped,
        "steps": [step.to_dict(currency) for step in steps],
        "next_cursor": next_cursor,
        "replay": REPLAY,
    })
