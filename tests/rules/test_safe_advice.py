"""Advice that is safe to act on: platform and state topics are never deleted, migrated or
cut; every group that will come back is a reader; evidence says how long it looked."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from costopt.analyze.analysis import ClusterAnalysis, analyze_cluster
from costopt.config import Settings
from costopt.cost.owners import OwnerAttribution
from costopt.prices import load_builtin_catalog
from costopt.rules import History
from costopt.rules.protected import FAMILIES
from costopt.snapshot.cluster_snapshot import ClusterSnapshot, ConsumerGroup, Topic
from costopt.store.store import StoredSnapshot
from tests.rules import fixtures
from tests.rules.fixtures import NOW, analyze, reader, topic

# One real-world name per protected family (rules/protected.py), each idle, uncompacted and
# unread: only its name can protect it.
FAMILY_EXAMPLES = {
    "kafka": "__transaction_state", "kafka-connect": "connect-configs",
    "schema-registry": "_schemas", "kafka-streams": "orders-app-order-store-changelog",
    "ksqldb": "_confluent-ksql-default__command_topic", "mirrormaker2": "heartbeats",
    "confluent": "_confluent-metrics", "strimzi": "strimzi-store-topic",
    "cruise-control": "__CruiseControlMetrics", "debezium": "inventory.schema-changes",
    "dead-letter": "orders.created.v1.dlq", "internal": "__my_component_state",
}


def idle(name: str, **overrides: object) -> Topic:
    return topic(name, rate=0.0, log_size_bytes=10**9, **overrides)


def kinds(analysis: ClusterAnalysis, kind: str) -> list[str]:
    return [r.target for r in analysis.recommendations if r.kind == kind]


def skipped(analysis: ClusterAnalysis) -> dict[str, str]:
    return {s.target: s.reason for s in analysis.skipped}


def test_every_protected_family_is_never_proposed_for_deletion() -> None:
    assert set(FAMILY_EXAMPLES) == {family.name for family in FAMILIES}
    topics = (*(idle(name) for name in FAMILY_EXAMPLES.values()), idle("search.old.v1"))
    analysis = analyze(topics)
    assert kinds(analysis, "idle_topic") == ["search.old.v1"]
    reasons = skipped(analysis)
    for family, name in FAMILY_EXAMPLES.items():
        assert f"protected ({family})" in reasons[name], name


def test_protected_topics_are_never_migrated_or_cut_and_config_extends_the_list() -> None:
    busy = {"rate": 2_000, "partitions": 128, "retention_days": 30}
    topics = (topic("app-store-changelog", **busy), topic("billing.ledger.v1", **busy),
              topic("payments.orders.v1", **busy))
    groups = tuple(reader(f"g-{t.name}", t.name, members=2) for t in topics)
    analysis = analyze(topics, groups, settings=Settings(rules={
        "protected_topics": [r"^billing\.ledger\."]}))
    for kind in ("partitions", "retention"):
        assert kinds(analysis, kind) == ["payments.orders.v1"], kind
    reasons = skipped(analysis)
    assert "protected (kafka-streams)" in reasons["app-store-changelog"]
    assert "protected (configured)" in reasons["billing.ledger.v1"]
    with pytest.raises(ValueError, match="protected_topics"):
        analyze(topics, settings=Settings(rules={"protected_topics": ["(unclosed"]}))


def test_a_compacted_topic_read_live_is_state_not_idle() -> None:
    ledger = idle("accounts.balances.v1", cleanup_policy="compact")
    analysis = analyze((ledger,), (reader("balances-svc", ledger.name),))
    assert kinds(analysis, "idle_topic") == []
    assert skipped(analysis)[ledger.name].startswith("compacted")


def test_a_topic_a_live_group_reads_is_never_idle_nor_an_archive_kept_for_years() -> None:
    quiet = idle("pricing.rules.v1")
    archive = idle("audit.ledger.archive.v1", retention_days=7 * 365)
    analysis = analyze((quiet, archive), (reader("pricing-svc", quiet.name),))
    assert kinds(analysis, "idle_topic") == []
    reasons = skipped(analysis)
    assert "reads it" in reasons[quiet.name]
    assert "a year or more" in reasons[archive.name]


def _batch(group: str, topic_name: str, behind_hours: float, last_run_hours_ago: float,
           peak_lag_hours: float) -> ConsumerGroup:
    """A batch job's group between runs: Empty, no members, committed at its last run."""
    return ConsumerGroup(group=group, topic=topic_name, lag_messages=10_000,
                         lag_seconds=behind_hours * 3600, max_lag_seconds=peak_lag_hours * 3600,
                         members=0, state="Empty",
                         last_commit_at=NOW - timedelta(hours=last_run_hours_ago))


def test_an_empty_nightly_batch_group_is_a_reader_retention_covers_its_lag() -> None:
    settlements = topic("payments.settlements.v1", retention_days=7)
    nightly = _batch("settlements-nightly", settlements.name, behind_hours=20,
                     last_run_hours_ago=20, peak_lag_hours=20)
    analysis = analyze((settlements,), (reader("ledger-svc", settlements.name), nightly))
    [rec] = [r for r in analysis.recommendations if r.kind == "retention"]
    assert rec.proposed["retention.ms"] >= 20 * 3_600_000 * 1.5  # not the 24 h floor
    assert kinds(analysis, "abandoned_group") == []
    evidence = {e.name: e for e in rec.evidence}
    assert evidence["slowest_reader"].value.startswith("settlements-nightly")
    assert "last commit 0.8 d ago" in evidence["slowest_reader"].value


def test_a_group_is_abandoned_only_after_its_last_commit_is_older_than_the_threshold() -> None:
    t = topic("orders.created.v1")
    weekly = _batch("weekly-report", t.name, behind_hours=150, last_run_hours_ago=6 * 24,
                    peak_lag_hours=160)
    gone = _batch("old-svc", t.name, behind_hours=20 * 24, last_run_hours_ago=20 * 24,
                  peak_lag_hours=20 * 24)
    analysis = analyze((t,), (reader("orders-svc", t.name), weekly, gone))
    assert kinds(analysis, "abandoned_group") == ["old-svc"]
    [rec] = [r for r in analysis.recommendations if r.kind == "abandoned_group"]
    assert "last commit 20.0 d ago" in {e.name: e for e in rec.evidence}["why"].value


def _history(topics: tuple[Topic, ...], observed: timedelta) -> History:
    """Hourly points at each topic's rate over `observed` (at least one point)."""
    hours = max(int(observed / timedelta(hours=1)), 1)
    rows = [{"topic": t.name, "ts": NOW - timedelta(hours=h), "resolution_seconds": 3600,
             "bytes_in_per_second": t.bytes_in_per_second,
             "bytes_out_per_second": t.bytes_out_per_second,
             "messages_in_per_second": t.messages_in_per_second,
             "log_size_bytes": float(t.log_size_bytes)} for t in topics for h in range(hours)]
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return History.from_series(frame, observed_days=observed / timedelta(days=1))


def _analyze(topics: tuple[Topic, ...], groups: tuple[ConsumerGroup, ...],
             history: History) -> ClusterAnalysis:
    snapshot = ClusterSnapshot(cluster="c1", taken_at=NOW, window_seconds=300,
                               brokers=fixtures.brokers(), topics=topics, groups=groups)
    return analyze_cluster(StoredSnapshot(1, snapshot, "aws-self-managed", "test"),
                           load_builtin_catalog("aws-self-managed"), history, {}, Settings(),
                           OwnerAttribution())


@pytest.mark.parametrize("observed,provisional,window", [
    (timedelta(hours=1), True, "1 h observed (7 d needed)"),
    (timedelta(days=2), True, "2 d observed (7 d needed)"),
    (timedelta(days=30), False, "30 d"),
])
def test_evidence_states_the_span_observed_and_thin_evidence_deletes_nothing(
        observed: timedelta, provisional: bool, window: str) -> None:
    unused = idle("search.old.v1")
    kept = topic("payments.orders.v1", retention_days=30)
    topics = (unused, kept)
    analysis = _analyze(topics, (reader("orders-svc", kept.name),), _history(topics, observed))
    [deletion] = [r for r in analysis.recommendations if r.kind == "idle_topic"]
    [cut] = [r for r in analysis.recommendations if r.kind == "retention"]
    for rec in (deletion, cut):
        assert rec.provisional is provisional
        assert {e.window for e in rec.evidence} & {window}, [e.window for e in rec.evidence]
        assert rec.category == ("watch" if provisional else "saving")
        if provisional:
            assert rec.observed_days == pytest.approx(observed / timedelta(days=1), rel=0.05)
            assert rec.needed_days == 7 and rec.confidence <= 0.4
            assert rec.title.startswith("Watch: ")
    plan_kinds = {s.recommendation.kind for s in
                  _plan(analysis)}
    assert ("idle_topic" in plan_kinds) is not provisional


def _plan(analysis: ClusterAnalysis) -> list:
    from costopt.analyze.plan import build_plan

    return list(build_plan({"c1": analysis.model}, {"c1": analysis.history},
                           analysis.recommendations).steps)


def test_evidence_shows_human_units() -> None:
    analysis = fixtures.over_retained_fleet()
    [rec] = [r for r in analysis.recommendations if r.kind == "retention"]
    shown = {e.name: e.display for e in rec.evidence}
    assert shown["retention_ms"] == "30 d"
    assert shown["log_size_bytes"].endswith("GiB")
    assert rec.to_dict()["evidence"][0]["display"]


def test_platform_topics_in_the_simulated_fleet_are_left_alone() -> None:
    from tests.fleets import analyzed

    analysis = analyzed("small")
    for cluster in analysis.clusters.values():
        left = {s.target for s in cluster.skipped}
        assert {"connect-configs", "_schemas", "accounts.balances.ledger.v1",
                "audit.ledger.archive.v1"} <= left
    targets = {r.target for r in analysis.recommendations if r.category != "risk"}
    assert not targets & {"connect-configs", "_schemas", "__consumer_offsets",
                          "orders-enricher-order-store-changelog", "heartbeats",
                          "accounts.balances.ledger.v1", "audit.ledger.archive.v1"}
