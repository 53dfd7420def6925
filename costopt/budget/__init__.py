"""Monthly budgets: what each owner, cluster, topic pattern or the fleet may spend in a
calendar month, what it has spent so far, where the month is heading (with an 80% interval),
and whether that is `on_track`, `at_risk` or `over`."""
