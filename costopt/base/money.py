"""Money with its currency and period attached, so no figure travels without them.

Amounts are Decimal at the edges and integer micro-units inside fleet-wide sums: vectorised
integer sums are exact, which is what lets topic rows + idle + unallocated equal the bill to
the cent on a 20,000-topic fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Literal, TypeVar

from costopt.base.pickling import SlotsPickle

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MICROS_PER_UNIT = 1_000_000
Period = Literal["month"]
CENT = Decimal("0.01")


def micros_to_decimal(micros: int) -> Decimal:
    return Decimal(int(micros)) / MICROS_PER_UNIT


def decimal_to_micros(amount: Decimal) -> int:
    return int((amount * MICROS_PER_UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def rounded(micros: int) -> str:
    """An amount as the decimal text every answer carries: to the cent, half to even."""
    return str(micros_to_decimal(int(micros)).quantize(CENT))


Amounts = TypeVar("Amounts", int, float, "np.ndarray", "pd.Series")


def micros_to_units(micros: Amounts) -> Amounts:
    """Micro-units as floats of the currency, for charts, gauges and console tables: places
    where a float's last digit does not reach a sum (exact sums stay in micros)."""
    return micros / MICROS_PER_UNIT  # type: ignore[return-value]


def units_to_micros(amount: float) -> float:
    """A threshold in the currency (a rule's `min_monthly_savings`) on the micro-unit scale,
    to compare with micro-unit figures."""
    return amount * MICROS_PER_UNIT


@dataclass(frozen=True, slots=True)
class Money(SlotsPickle):
    amount: Decimal
    currency: str
    period: Period = "month"

    @classmethod
    def from_micros(cls, micros: int, currency: str, period: Period = "month") -> Money:
        return cls(micros_to_decimal(micros), currency, period)

    @classmethod
    def zero(cls, currency: str, period: Period = "month") -> Money:
        return cls(Decimal(0), currency, period)

    def _check(self, other: Money) -> None:
        if (self.currency, self.period) != (other.currency, other.period):
            raise ValueError(
                f"cannot combine {self.currency}/{self.period} with {other.currency}/{other.period}"
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency, self.period)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency, self.period)

    def rounded(self) -> Decimal:
        """The amount to the cent, for display and reports."""
        return self.amount.quantize(CENT, rounding=ROUND_HALF_EVEN)

    def __str__(self) -> str:
        return f"{self.rounded():,} {self.currency}/{self.period}"
