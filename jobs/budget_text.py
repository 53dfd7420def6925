"""`costopt budgets`: each budget's month as one line of a console table."""

from __future__ import annotations

from collections.abc import Sequence

from costopt.base.money import rounded
from costopt.budget.evaluate import BudgetStatus

HEADER = ("budget", "scope", "target", "amount", "to date", "basis", "month end (80%)",
          "status")


def budget_lines(statuses: Sequence[BudgetStatus]) -> str:
    if not statuses:
        return "no budgets: add `budgets:` to the config or PUT /v1/budgets/{name}"
    rows = [HEADER]
    for s in statuses:
        forecast = s.forecast
        interval = (f" [{rounded(forecast.lower_micros)}–{rounded(forecast.upper_micros)}]"
                    if forecast.lower_micros is not None and forecast.upper_micros is not None
                    else f" ({forecast.method.replace('_', ' ')})")
        share = f" ({s.spent_share:.0%})" if s.spent_share is not None else ""
        rows.append((s.budget.name, s.budget.scope, s.budget.target or "-",
                     f"{rounded(s.amount_micros)} {s.currency}",
                     f"{rounded(s.spent_micros)}{share}", s.basis,
                     f"{rounded(forecast.central_micros)}{interval}", s.status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    month = statuses[0].month.label
    lines = [f"budgets for {month}, as of {statuses[0].as_of:%Y-%m-%d %H:%M} UTC"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip() for row in rows]
    return "\n".join(lines)
