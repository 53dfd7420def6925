"""The month-end forecast's 80% interval, backtested on the simulator's history: over three
months of the `small` fleet, forecasts made on the 10th and the 20th for the fleet, each
cluster, the largest owners and two topic patterns must hold the month's realised cost at
least 70% of the time (`python -m costopt.budget.backtest` runs the longer version)."""

from __future__ import annotations

from datetime import UTC, datetime

from costopt.budget.backtest import backtest, simulated_history


def test_the_80pct_interval_covers_the_realised_month_end_in_most_backtests() -> None:
    history = simulated_history("small", 92, datetime(2026, 12, 1, tzinfo=UTC))
    result = backtest(history, cut_days=(10, 20))
    print(f"\nbudget backtest: {result.covered} of {result.forecasts} month-end forecasts "
          f"covered ({result.coverage:.1%}); mean interval width {result.mean_width_pct:.1f}% "
          "of the month")
    assert result.forecasts >= 60  # 3 months × 2 cuts × 11 scopes, less any without a model
    assert result.coverage >= 0.7
