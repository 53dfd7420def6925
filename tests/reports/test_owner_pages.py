"""Each team its own page: `report.per_owner` writes one per owner beside the fleet report,
which links each; a team with a webhook gets its page's message there (a real local HTTP
server stands in for Slack); `costopt report --owner TEAM` writes one team's page."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import yaml
from typer.testing import CliRunner

from costopt.analyze.analysis import cached_analysis
from costopt.config import ReportSettings, Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store
from jobs.cli import app
from reports.owner_page import OwnerContext, owner_page_data
from reports.run import make_report
from tests.fleets import fleet
from tests.reports.test_delivery import Hook


def _store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    load_fleet(store, fleet("tiny"), sampled_topics_per_cluster=3, records_per_topic=20)
    return store


def test_every_owner_gets_a_page_the_fleet_report_links_and_its_webhook_a_message(
        tmp_path: Path) -> None:
    store = _store(tmp_path)
    probe = OwnerContext.of(cached_analysis(store, Settings()))
    team = probe.owners()[0]
    hook = Hook(failures=0)
    settings = Settings(
        report=ReportSettings(directory=str(tmp_path / "reports"), per_owner=True,
                              owner_webhooks={team: hook.url}),
        budgets=[{"name": "team", "scope": "owner", "target": team, "amount": "1000000"}])
    result = make_report(settings, store)
    hook.server.shutdown()
    fleet_html = Path(result["html"]).read_text()
    pages = sorted(Path(result["html"]).parent.glob("costopt-report-*-owners/*.html"))
    assert {p.stem for p in pages} == set(probe.owners())
    for page in pages:
        assert f'href="{page.parent.name}/{page.name}"' in fleet_html
    text = next(p for p in pages if p.stem == team).read_text()
    for section in ("Budget", "What changed", "Open recommendations", "Who pays for",
                    "per million messages in"):
        assert section in text, section
    assert "team" in text and "on track" in text  # its budget, with its status
    [message] = hook.bodies
    assert message["text"].startswith(f"costopt: {team} costs ")
    assert "budget team:" in message["text"]


def test_a_team_page_adds_up(tmp_path: Path) -> None:
    store = _store(tmp_path)
    analysis = cached_analysis(store, Settings())
    context = OwnerContext.of(analysis)
    for owner in context.owners():
        data = owner_page_data(context, owner)
        parts = Decimal(data["producer"]) + Decimal(data["consumer"])
        assert abs(Decimal(data["monthly_cost"]) - parts) <= Decimal("0.01")  # each to the cent
        steps = [s for s in analysis.plan().steps if s.recommendation.owner == owner]
        assert data["recommendations_count"] == len(steps)
        assert Decimal(data["recommendations_total"]) == sum(
            (Decimal(r["plan_savings"]) for r in data["recommendations"]), Decimal(0))
        if data["readers_share"] is not None:
            assert 0 <= data["readers_share"] <= 1
        assert data["what_changed"]["open"] == []  # no store: no anomalies


def test_a_team_page_shows_only_its_own_anomalies(tmp_path: Path) -> None:
    """The page's "What changed" is the fleet report's section, limited to the owner."""
    store = _store(tmp_path)
    context = OwnerContext.of(cached_analysis(store, Settings()))
    mine, other = context.owners()[:2]
    records = [{"id": f"a{n}", "scope": "owner", "cluster": None, "item": owner,
                "owner": owner, "state": "open", "start": "2026-11-10", "resolved_on": None,
                "impact_monthly": "75.00", "currency": "USD",
                "driver": {"figure": "bytes_in", "change": None, "kind": "figure"}}
               for n, owner in enumerate((mine, other))]
    data = owner_page_data(replace(context, anomalies=records), mine)
    assert [a["id"] for a in data["what_changed"]["open"]] == ["a0"]
    assert data["what_changed"]["open_impact_monthly"] == "75.00"


def test_report_owner_writes_one_team_s_page(tmp_path: Path) -> None:
    store = _store(tmp_path)
    team = OwnerContext.of(cached_analysis(store, Settings())).owners()[0]
    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": store.url}))
    runner = CliRunner()
    out = tmp_path / "pages"
    result = runner.invoke(app, ["report", "--config", str(config), "--out", str(out),
                                 "--owner", team])
    assert result.exit_code == 0, result.output
    assert "no webhook for this owner" in result.output
    assert [p.stem for p in out.glob("*.html")] == [team]
    unknown = runner.invoke(app, ["report", "--config", str(config), "--owner", "nobody"])
    assert unknown.exit_code == 2 and "unknown owner 'nobody'" in unknown.output
