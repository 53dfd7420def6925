"""A budget as configured (`budgets:` in the config) or sent over REST (`PUT /v1/budgets`):
one validated shape for both, so a budget refused in one is refused in the other.

What can be checked alone is checked here (a negative amount, a pattern RE2 refuses, a
threshold outside (0, 10]); whether an owner or cluster exists needs the analysis
(`costopt.budget.evaluate.check_targets`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from costopt.base.patterns import PatternError, compile_pattern

Scope = Literal["owner", "cluster", "fleet", "topic_pattern"]
DEFAULT_THRESHOLDS = (0.8, 1.0)
NAME_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"


class BudgetSpec(BaseModel):
    """What a budget limits: `scope` and its `target` (an owner, a cluster, an RE2 pattern
    over topic names; none for the fleet), the monthly `amount` in `currency`, and the
    `thresholds` (shares of the amount) at which it warns."""

    model_config = ConfigDict(extra="forbid")

    scope: Scope
    target: str | None = Field(None, validate_default=True, max_length=512,
                               description="owner, cluster or RE2 topic pattern; none for the "
                                           "fleet")
    amount: Decimal = Field(description="the monthly budget, in `currency`")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$",
                                 description="default: the fleet's currency")
    thresholds: list[float] = Field(list(DEFAULT_THRESHOLDS), min_length=1, max_length=10,
                                    description="shares of the amount that alert")

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError("must be a finite amount of at least 0")
        if value.as_tuple().exponent < -6:  # type: ignore[operator]
            raise ValueError("at most 6 decimal places (micro-units)")
        return value

    @field_validator("thresholds")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if any(not 0 < share <= 10 for share in value):
            raise ValueError("each threshold is a share of the amount, above 0 and at most 10 "
                             "(0.8 is 80%)")
        return sorted(set(value))

    @field_validator("target")
    @classmethod
    def _target_fits_scope(cls, value: str | None, info: ValidationInfo) -> str | None:
        scope = info.data.get("scope")
        if scope is None:  # the scope itself was refused
            return value
        if scope == "fleet":
            if value is not None:
                raise ValueError("a fleet budget has no target")
            return value
        if not value:
            raise ValueError(f"a {scope} budget needs a target")
        if scope == "topic_pattern":
            try:
                compile_pattern(value)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value


class ConfiguredBudget(BudgetSpec):
    """A budget from the config file: a spec with its name."""

    name: str = Field(pattern=NAME_PATTERN)
