"""Anomalies in the store, on the embedded default and on a real PostgreSQL: opened once,
resolved once, claimed once, paged newest first, and closed when detection no longer sees
them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from costopt.records.anomaly import Anomaly, Driver
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore


def _anomaly(item: str, start: date) -> Anomaly:
    return Anomaly(scope="topic", cluster="c1", item=item, owner="team", start=start,
                   last_day=start + timedelta(days=2), resolved_on=None,
                   expected_monthly_micros=100_000_000, observed_monthly_micros=180_000_000,
                   impact_monthly_micros=80_000_000, currency="USD",
                   driver=Driver("stored_bytes", "retention.ms 86400000 → 2592000000", "config"))


def test_sync_claims_paging_and_closing(store: Store) -> None:
    anomalies = AnomalyStore(store)
    found = [_anomaly(f"topic-{i}", date(2026, 11, 1) + timedelta(days=i)) for i in range(5)]
    assert [n.event for n in anomalies.sync(found)] == ["opened"] * 5
    assert anomalies.sync(found) == []  # known: nothing new to say
    assert anomalies.open_counts() == {"topic": 5}

    page = anomalies.list(limit=2)
    assert [a["item"] for a in page] == ["topic-4", "topic-3"]
    rest = anomalies.list(limit=10, after=(page[-1]["start"], page[-1]["id"]))
    assert [a["item"] for a in rest] == ["topic-2", "topic-1", "topic-0"]
    assert page[0]["impact_monthly"] == "80.00" and page[0]["currency"] == "USD"
    assert page[0]["driver"]["change"] == "retention.ms 86400000 → 2592000000"

    [owed] = [n for n in anomalies.unsent() if n.anomaly["item"] == "topic-0"]
    assert anomalies.claim(owed) is True
    assert anomalies.claim(owed) is False  # a second replica, or a restart
    anomalies.release(owed)
    assert anomalies.claim(owed) is True

    resolved = replace(found[0], resolved_on=date(2026, 11, 6))
    assert [(n.event, n.anomaly["item"]) for n in anomalies.sync([resolved, *found[1:]])] == [
        ("resolved", "topic-0")]
    # Detection no longer finds topic-4 at all: closed on the last day it tested.
    notices = anomalies.sync([resolved, *found[1:4]], tested_to=date(2026, 11, 20))
    assert [(n.event, n.anomaly["item"]) for n in notices] == [("resolved", "topic-4")]
    [closed] = [a for a in anomalies.list() if a["item"] == "topic-4"]
    assert (closed["state"], closed["resolved_on"]) == ("resolved", "2026-11-20")
    assert "no longer found" in closed["driver"]["details"]["closed"]
    assert anomalies.open_counts() == {"topic": 3}
    assert len(anomalies.list(state="resolved")) == 2
