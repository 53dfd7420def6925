"""Floor 5, analysis: a cluster's model, cost, rules, plan and forecasts put together
(`analysis.py`), the plan of changes (`plan.py`), decisions on recommendations and the
savings realized after a change."""
