"""`costopt demo`: everything costopt does, on a simulated fleet, with no Kafka or Prometheus."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from costopt.analyze.analysis import FleetAnalysis, cached_analysis
from costopt.analyze.decisions import Decisions
from costopt.anomalies.service import refresh
from costopt.base.money import Money
from costopt.billing.focus_export import DEFAULT_FOCUS_VERSION, write_focus_csv
from costopt.billing.importer import import_bill
from costopt.billing.month import month_estimates, reconcile
from costopt.billing.reconcile import Month
from costopt.billing.sample import confluent_bill, focus_bill
from costopt.budget.fleet_budgets import budget_statuses
from costopt.config import Settings
from costopt.simulate.fleet import generate_fleet
from costopt.simulate.load import load_fleet
from costopt.simulate.presets import preset
from costopt.store import Store, sqlite_url
from jobs.budget_text import budget_lines
from jobs.demo_budgets import demo_budgets
from reports.exports import write_costs_csv, write_plan_json, write_recommendations_json
from reports.weekly import write_report
from reports.what_changed import summary_lines

# The demo's simulated invoice: the estimate plus 7%, so reconciliation has something to show.
DEMO_BILL_FACTOR = Decimal("1.07")
# The day the demo's simulated snapshot is taken (00:00 UTC), after the preset's days of history.
# Fixed, so the demo prints the same figures on any day, and the README's (`--as-of` moves it).
DEMO_AS_OF = date(2026, 11, 20)


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    store_url: str
    analysis: FleetAnalysis
    files: list[Path]


def demo_end(as_of: date) -> datetime:
    """When the simulated snapshot is taken: 00:00 UTC on `as_of`, which must not be later
    than today (UTC), since the history before it is what the demo pretends to have seen."""
    today = datetime.now(UTC).date()
    if as_of > today:
        raise ValueError(f"--as-of {as_of.isoformat()} is in the future (today is "
                         f"{today.isoformat()} UTC)")
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


def run_demo(out: Path, preset_name: str = "small", seed: int | None = None,
             echo: object = print, as_of: date = DEMO_AS_OF,
             focus_version: str = DEFAULT_FOCUS_VERSION) -> DemoResult:
    say = echo if callable(echo) else print
    spec = preset(preset_name)
    end = demo_end(as_of)
    if seed is not None:
        spec = spec.with_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    database = out / "costopt.db"
    for stale in (database, database.with_name("costopt.db-wal"),
                  database.with_name("costopt.db-shm")):
        stale.unlink(missing_ok=True)
    url = sqlite_url(database)
    store = Store.open(url)
    started = time.monotonic()
    say(f"simulating the '{spec.name}' fleet: {spec.clusters} clusters, {spec.topics:,} topics, "
        f"{spec.days} days of history to {end:%Y-%m-%d %H:%M} UTC (seed {spec.seed})")
    fleet = generate_fleet(spec, end=end)

    def progress(cluster: str, done: int, total: int) -> None:
        say(f"  [{done}/{total}] stored {cluster}")

    load_fleet(store, fleet, progress=progress)
    say("analyzing: cost allocation, recommendations, forecasts")
    settings = Settings(store_url=url)
    analysis = cached_analysis(store, settings)
    anomalies = [a.to_dict() for a in refresh(store, settings, analysis)[0]]
    month = Month.of(max(c.model.snapshot.taken_at for c in analysis.clusters.values()))
    bill = out / f"bill-{month.label}.csv"
    # A Confluent Cloud fleet is invoiced by Confluent (its cost export, by line type); the
    # others get a FOCUS bill as their cloud exports it.
    write_bill, bill_format = ((confluent_bill, "Confluent cost export") if fleet.is_confluent
                               else (focus_bill, "FOCUS"))
    bill.write_text(write_bill(month_estimates(analysis, store, settings, month), month,
                               DEMO_BILL_FACTOR))
    import_bill(store, settings, bill.read_bytes(), bill.name)
    say(f"imported a simulated {month.label} invoice ({bill_format}, "
        f"{DEMO_BILL_FACTOR - 1:+.0%} on the estimate) to show reconciliation")
    allocation = reconcile(analysis, store, settings, month)
    files = [
        write_costs_csv(analysis, out / "costs.csv"),
        write_focus_csv(allocation, out / "focus.csv", focus_version),
        bill,
        write_recommendations_json(analysis, out / "recommendations.json"),
        write_plan_json(analysis, out / "plan.json"),
    ]
    settings = settings.model_copy(update={"budgets": demo_budgets(analysis)})
    budgets = budget_statuses(analysis, store, settings)
    report = write_report(analysis, out, "report", settings.report.grafana_url,
                          reconciliation=allocation.to_dict(),
                          budgets=[b.to_dict() for b in budgets], anomalies=anomalies)
    files += [report.html, report.json, *report.csv]
    store.close()
    say(summary(analysis))
    say(budget_lines(budgets))
    say("\n".join(summary_lines(anomalies)))
    say(f"done in {time.monotonic() - started:.1f} s; files in {out}:")
    for path in [database, *files]:
        say(f"  {path}")
    return DemoResult(out, url, analysis, files)


def summary(analysis: FleetAnalysis, decisions: Decisions | None = None, top: int = 5,
            with_changes: bool = False) -> str:
    """The fleet's cost, the savings plan's total and first steps, and the open risks."""
    decisions = decisions or Decisions()
    currency = analysis.currency
    total = Money.from_micros(analysis.monthly_cost_micros(), currency)
    lines = [f"fleet cost: {total}"]
    for name, cluster in sorted(analysis.clusters.items(),
                                key=lambda item: -item[1].model.cost.bill.amount):
        lines.append(f"  {name:<24} {cluster.model.cost.bill}")
    plan = analysis.plan(decisions)
    lines.append(f"savings available: {plan.total_savings} ({plan.share_of_bill:.1%} of the "
                 f"bill), a plan of {len(plan.steps)} steps; the first {min(top, len(plan.steps))}"
                 ":")
    for step in plan.steps[:top]:
        rec = step.recommendation
        lines.append(f"  {Money.from_micros(step.marginal_savings_micros, currency).rounded():>12,}"
                     f" {currency}/month  {rec.kind:<16} {rec.cluster}/{rec.target}")
        if with_changes:
            lines.append(f"      {rec.change}")
    risks = [r for r in decisions.open(analysis.recommendations) if r.category == "risk"]
    if risks:
        counts = {s: sum(1 for r in risks if r.severity == s)
                  for s in ("critical", "high", "medium", "low")}
        lines.append("risks: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return "\n".join(lines)
