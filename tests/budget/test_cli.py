"""`costopt budgets`: the config's budgets over a store holding the `tiny` fleet."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from costopt.simulate.load import load_fleet
from costopt.store import Store
from jobs.cli import app
from tests.fleets import fleet


def test_budgets_prints_each_budget_s_month(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    load_fleet(store, fleet("tiny"), sampled_topics_per_cluster=3, records_per_topic=20)
    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": store.url, "budgets": [
        {"name": "everything", "scope": "fleet", "amount": 1},
        {"name": "generous", "scope": "fleet", "amount": 10_000_000}]}))
    result = CliRunner().invoke(app, ["budgets", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("budgets for 2026-11, as of 2026-11-20 00:00 UTC")
    everything = next(line for line in lines if line.startswith("everything"))
    generous = next(line for line in lines if line.startswith("generous"))
    assert everything.endswith("over") and generous.endswith("on_track")
    assert "estimated" in generous and "[" in generous  # basis, and the 80% interval
    empty = tmp_path / "none.yaml"
    empty.write_text(yaml.safe_dump({"store_url": store.url}))
    assert "no budgets" in CliRunner().invoke(app, ["budgets", "--config", str(empty)]).output
