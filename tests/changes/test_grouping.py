"""Advice at fleet scale, on the wix fleet's 15,000 findings: a few hundred groups at most,
each with its count and a total equal to the sum of its items; a cause's single change,
run as one what-if, saves at least what its items save; "high" is kept for what fails soon."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from costopt.base.money import decimal_to_micros
from costopt.changes.grouping import GROUP_BYS, GroupBy, group_recommendations, severity_counts
from costopt.whatif import run_whatif
from reports.weekly import write_report
from tests.fleets import analyzed


@pytest.mark.parametrize("by", GROUP_BYS)
def test_wix_findings_fall_into_a_few_hundred_groups_that_add_up(by: GroupBy) -> None:
    analysis = analyzed("wix")
    recs = analysis.recommendations
    groups = group_recommendations(recs, by)
    assert 10 < len(groups) <= 300 < len(recs) / 10
    assert sorted(r.id for g in groups for r in g.items) == sorted(r.id for r in recs)
    for group in groups:
        assert group.to_dict("USD")["count"] == len(group.items)
        assert Decimal(group.to_dict("USD")["total_monthly_savings"]) == sum(
            (r.monthly_savings.rounded() for r in group.items), Decimal(0))
        assert group.total_micros == sum(decimal_to_micros(r.monthly_savings.amount)
                                         for r in group.items)
        assert sum(group.severities().values()) == sum(1 for r in group.items if r.severity)


def test_a_causes_single_change_saves_at_least_what_its_items_save() -> None:
    analysis = analyzed("wix")
    groups = [g for g in group_recommendations(analysis.recommendations, "cause")
              if g.single_change is not None]
    assert len(groups) >= 10
    assert max(len(g.items) for g in groups) > 100  # one change instead of hundreds of lines
    for group in groups:
        assert group.single_change is not None
        assert set(group.single_change.topics) == {r.target for r in group.items}
        result = run_whatif(analysis.models, list(group.single_change.whatif))
        saved = decimal_to_micros((result.baseline - result.projected).amount)
        assert saved >= group.total_micros, (group.kind, group.cluster)


def test_high_severity_is_kept_for_what_fails_at_the_next_restart() -> None:
    recs = analyzed("wix").recommendations
    counts = severity_counts(recs)
    insync = [r for r in recs if r.kind == "min_insync_replicas"]
    high = [r for r in insync if r.severity == "high"]
    assert all(r.current["min.insync.replicas"] >= r.proposed["min.insync.replicas"] + 1
               for r in high)
    assert all(r.severity == "medium" for r in insync if r.current["min.insync.replicas"] == 1)
    assert counts.get("high", 0) < len(insync)


def test_the_report_shows_the_groups_before_the_risks_with_severity_counts(
        tmp_path: Path) -> None:
    analysis = analyzed("wix")
    files = write_report(analysis, tmp_path, "report")
    page = files.html.read_text()
    assert page.index('<section id="groups">') < page.index('<section id="risks">')
    groups = page.split('<section id="groups">', 1)[1].split("</section>", 1)[0]
    counts = severity_counts(analysis.recommendations)
    assert f"{counts['high']} high, {counts.get('medium', 0)} medium" in groups
    top = group_recommendations(analysis.recommendations, "cause")[0]
    assert f"{len(top.items):,}" in groups and top.kind in groups
