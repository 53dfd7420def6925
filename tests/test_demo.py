"""`costopt demo` end to end: the files it promises, with content that adds up."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from jobs.demo import run_demo


def test_demo_writes_database_report_and_exports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "jobs", "demo", "--out", str(out),
                             "--preset", "tiny"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fleet cost:" in result.stdout and "savings available:" in result.stdout
    for name in ("costopt.db", "report.html", "recommendations.json", "plan.json", "costs.csv",
                 "focus.csv"):
        assert (out / name).stat().st_size > 0, name

    recommendations = json.loads((out / "recommendations.json").read_text())
    assert recommendations
    for rec in recommendations:
        assert {"id", "kind", "cluster", "target", "monthly_savings", "currency"} <= set(rec)
        Decimal(rec["monthly_savings"])

    with (out / "costs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"cluster", "topic", "owner", "monthly_cost", "currency", "storage_local",
            "compute", "network_consumer"} <= set(rows[0])
    topics = {row["topic"] for row in rows}
    assert {"__idle__", "__unallocated__"} <= topics
    assert {row["side"] for row in rows} == {"producer", "consumer", "shared"}
    assert all(row["consumer_group"] for row in rows if row["side"] == "consumer"
               and row["split"] != "unread")
    report = json.loads((out / "report.json").read_text())
    total = sum(Decimal(row["monthly_cost"]) for row in rows)
    assert total.quantize(Decimal("0.01")) == Decimal(report["fleet"]["monthly_cost"])
    for row in rows:  # each row's parts add up to its total
        parts = sum(Decimal(row[c]) for c in ("storage_local", "storage_tiered",
                                              "network_replication", "network_producer",
                                              "network_consumer", "compute", "partitions"))
        assert parts == Decimal(row["monthly_cost"])

    plan = json.loads((out / "plan.json").read_text())
    assert plan["savings"] == report["fleet"]["savings_available"]
    steps = plan["steps"]  # each step rounded to the cent: the sum is off by at most that
    assert abs(Decimal(plan["savings"]) - sum(Decimal(s["marginal_savings"]) for s in steps)) \
        <= Decimal("0.005") * len(steps)
    with (out / "focus.csv").open() as handle:
        focus = list(csv.DictReader(handle))
    assert {r["x_Basis"] for r in focus} == {"billed"}  # the demo imports a simulated bill
    billed = sum(Decimal(r["BilledCost"]) for r in focus)
    assert report["estimate_vs_bill"]["error_pct"] == 7.0
    assert billed.quantize(Decimal("0.01")) == Decimal(report["estimate_vs_bill"]["bill"])
    html = (out / "report.html").read_text()
    assert "+7.0%" in html
    assert html.count("Plotly.newPlot") >= 3
    assert html.count("plotly.js v") == 1  # plotly.js embedded once, not per chart


def test_demo_refuses_an_unknown_preset(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "jobs", "demo", "--out", str(tmp_path),
                             "--preset", "enormous"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "unknown fleet preset 'enormous'" in result.stderr


README = Path(__file__).resolve().parents[1] / "README.md"
# The README's sentence the demo's `small` figures live in; the test prints a new one to paste.
README_FIGURES = re.compile(
    r"(?P<share>\d+\.\d)% of the bill on\s+`small` \((?P<savings>[\d,]+\.\d\d) of\s+"
    r"(?P<bill>[\d,]+\.\d\d) USD/month\)")


def _printed_figures(lines: list[str]) -> dict[str, str]:
    text = "\n".join(lines)
    bill = re.search(r"^fleet cost: ([\d,]+\.\d\d) USD/month$", text, re.M)
    plan = re.search(r"^savings available: ([\d,]+\.\d\d) USD/month \((\d+\.\d)% of the bill\)"
                     r", a plan of (\d+) steps", text, re.M)
    assert bill and plan, text
    return {"bill": bill.group(1), "savings": plan.group(1), "share": plan.group(2),
            "steps": plan.group(3), "summary": text[text.index("fleet cost:"):
                                                   text.index("done in")]}


def test_demo_prints_the_readmes_figures_on_any_day(tmp_path: Path) -> None:
    """Two demos a week apart on the clock (time-machine moves every clock the process reads:
    `datetime.now`, `time.time`) print the same figures, and they are the README's."""
    import time_machine

    runs = []
    for day in (datetime(2026, 12, 7, 9, 30, tzinfo=UTC), datetime(2026, 12, 14, 17, 5,
                                                                   tzinfo=UTC)):
        lines: list[str] = []
        with time_machine.travel(day, tick=True):
            run_demo(tmp_path / day.strftime("%d"), "small", echo=lines.append)
        runs.append(_printed_figures(lines))
    first, later = runs
    assert first["summary"] == later["summary"]

    found = README_FIGURES.search(README.read_text())
    assert found, "README.md lost the sentence with the `small` demo's figures"
    printed = {key: first[key] for key in ("share", "savings", "bill")}
    paste = (f"{printed['share']}% of the bill on `small` ({printed['savings']} of "
             f"{printed['bill']} USD/month)")
    assert found.groupdict() == printed, (
        f"README.md says {found.group(0)!r}; `make demo` prints other figures. Paste into "
        f"README.md: {paste}")
