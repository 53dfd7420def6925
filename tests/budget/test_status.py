"""Budget status and the month-end forecast against a case computed by hand.

One cluster, one topic owned by `team`, costing 730 a month at a flat rate: 24 a day (the
730-hour month's 24 hours). On 2026-11-11 00:00, ten days of November have gone: 240 spent;
the month of 30 days ends at 720, with nothing to doubt about a flat line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from costopt.budget.evaluate import evaluate, status_of
from costopt.budget.spend import CostHistory
from costopt.records.budget_spec import BudgetSpec, ConfiguredBudget

AS_OF = datetime(2026, 11, 11, tzinfo=UTC)
NO_BILL = pd.DataFrame(columns=["cluster", "charge_start", "charge_end", "amount_micros"])


def history(rate_per_day: list[float], last_day: str = "2026-11-10") -> CostHistory:
    """Daily monthly-rate cost (in units) of topic `orders` on cluster `c1`, owner `team`."""
    days = pd.date_range(end=last_day, periods=len(rate_per_day), freq="D", tz="UTC")
    monthly = [r * 730 / 24 * 1_000_000 for r in rate_per_day]
    topic_days = pd.DataFrame({"ts": days, "cluster": "c1", "topic": "orders", "owner": "team",
                               "monthly_cost_micros": monthly})
    shares = pd.DataFrame({"cluster": ["c1"], "topic": ["orders"], "owner": ["team"],
                           "share": [1.0]})
    return CostHistory(topic_days, shares)


def budget(amount: int, scope: str = "owner", target: str | None = "team"
           ) -> ConfiguredBudget:
    return ConfiguredBudget(name="b", scope=scope, target=target,  # type: ignore[arg-type]
                            amount=Decimal(amount))


@pytest.mark.parametrize(("amount", "status"), [(1000, "on_track"), (700, "at_risk"),
                                                (290, "at_risk"), (240, "over")])
def test_a_flat_month_by_hand(amount: int, status: str) -> None:
    result = evaluate(budget(amount), "config", history([24.0] * 20), NO_BILL, AS_OF, "USD")
    assert result.spent_micros == 240_000_000
    assert result.basis == "estimated"
    assert result.forecast.method == "model"
    assert result.forecast.central_micros == pytest.approx(720_000_000, abs=1)
    assert result.forecast.lower_micros == pytest.approx(720_000_000, abs=1)
    assert result.forecast.upper_micros == pytest.approx(720_000_000, abs=1)
    assert result.status == status
    # 700: the forecast 720 reaches it; 290: 240 spent is past 80% of it (232)


def test_a_steady_climb_is_forecast_along_its_line() -> None:
    """20 days climbing 1 a day, from 5 on Oct 22 to 24 on Nov 10: November's first ten days
    spent 15+...+24 = 195, and the twenty left, 25 to 44, add 690: 885."""
    result = evaluate(budget(1000), "config", history([5.0 + d for d in range(20)]), NO_BILL,
                      AS_OF, "USD")
    assert result.spent_micros == 195_000_000
    assert result.forecast.central_micros == pytest.approx(885_000_000, rel=1e-6)
    assert result.forecast.lower_micros is not None and result.forecast.upper_micros is not None
    assert result.forecast.lower_micros <= result.forecast.central_micros \
        <= result.forecast.upper_micros
    assert result.status == "on_track"  # 195 < 800 spent, 885 < 1000 forecast


def test_a_bill_sets_the_month_to_date_and_the_level_of_the_forecast() -> None:
    """The bill for c1 says Nov 1-5 cost 150 where the estimate says 120: every day of c1
    is scaled by 1.25, so 10 days spent 300 and the month ends at 900."""
    lines = pd.DataFrame({"cluster": ["c1", "c1", None],
                          "charge_start": [datetime(2026, 11, 1, tzinfo=UTC),
                                           datetime(2026, 11, 3, tzinfo=UTC),
                                           datetime(2026, 11, 1, tzinfo=UTC)],
                          "charge_end": [datetime(2026, 11, 3, tzinfo=UTC),
                                         datetime(2026, 11, 6, tzinfo=UTC),
                                         datetime(2026, 12, 1, tzinfo=UTC)],
                          "amount_micros": [60_000_000, 90_000_000, 5_000_000]})
    for scope, target in (("owner", "team"), ("cluster", "c1"), ("fleet", None),
                          ("topic_pattern", "^ord")):
        result = evaluate(budget(850, scope, target), "config", history([24.0] * 20), lines,
                          AS_OF, "USD")
        assert result.basis == "billed", scope
        assert result.spent_micros == pytest.approx(300_000_000, abs=2), scope
        assert result.forecast.central_micros == pytest.approx(900_000_000, abs=2), scope
        assert result.status == "at_risk", scope  # the forecast 900 passes 850


def test_less_than_a_week_of_history_carries_the_last_rate_on_without_an_interval() -> None:
    result = evaluate(budget(1000), "config", history([24.0] * 5), NO_BILL, AS_OF, "USD")
    assert result.forecast.method == "run_rate"
    assert result.spent_micros == 240_000_000  # Nov 1-5, before the history, at its first day
    assert result.forecast.central_micros == 720_000_000
    assert result.forecast.lower_micros is None and result.forecast.upper_micros is None


def test_a_pattern_that_matches_nothing_spends_nothing() -> None:
    result = evaluate(budget(10, "topic_pattern", "^nothing$"), "config",
                      history([24.0] * 20), NO_BILL, AS_OF, "USD")
    assert (result.spent_micros, result.forecast.central_micros, result.status) \
        == (0, 0, "on_track")


def test_status_rules() -> None:
    assert status_of(0, 0, 0, [0.8, 1.0]) == "at_risk"  # a zero budget forecast to stay zero
    assert status_of(1, 1, 0, [0.8, 1.0]) == "over"
    assert status_of(50, 90, 100, [0.5, 1.0]) == "at_risk"
    assert status_of(49, 99, 100, [0.5, 1.0]) == "on_track"


@pytest.mark.parametrize(("body", "field"), [
    ({"scope": "owner", "target": "team", "amount": "-1"}, "amount"),
    ({"scope": "topic_pattern", "target": "(a)\\1", "amount": "1"}, "target"),
    ({"scope": "cluster", "amount": "1"}, "target"),
    ({"scope": "fleet", "target": "x", "amount": "1"}, "target"),
    ({"scope": "team", "target": "x", "amount": "1"}, "scope"),
    ({"scope": "fleet", "amount": "1", "thresholds": [0]}, "thresholds"),
])
def test_a_bad_budget_is_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        BudgetSpec.model_validate(body)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]
