"""`costopt demo` end to end: the files it promises, with content that adds up."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path


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
