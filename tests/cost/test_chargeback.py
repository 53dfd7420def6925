"""The reader pays: consumer-side cost split over the groups that read a topic, by measured
bytes read, checked by hand on the worked example (docs/cost-model.md) and exactly on `wix`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from costopt.cost import COMPONENTS, allocate
from costopt.cost.chargeback import (
    CONSUMER,
    PRODUCER,
    SHARED,
    chargeback_rows,
    side_rollup,
)
from costopt.cost.owners import OwnerAttribution, OwnerRule
from costopt.cost.reads import reads_from_offsets
from costopt.prices import load_builtin_catalog
from costopt.snapshot.cluster_snapshot import ConsumerGroup
from costopt.store import Store
from tests.fixtures_cost import worked_example_cluster
from tests.fleets import analyzed

ORDERS = "payments.orders.v1"


def _dollars(micros: object) -> Decimal:
    return Decimal(int(micros)) / 1_000_000  # type: ignore[call-overload]


def _worked(groups: list[ConsumerGroup], reads: dict[tuple[str, str], float] | None = None
            ) -> pd.DataFrame:
    cost = allocate(worked_example_cluster(), load_builtin_catalog("aws-self-managed"))
    return chargeback_rows(cost, groups, reads)


def test_worked_example_readers_pay_their_measured_share() -> None:
    """payments.orders.v1 reads 2 MiB/s: network_consumer 68.4375; fetch load on compute is
    63.072 × 0.5 × 2/4 (the bytes-out half of the throughput term) = 15.768. Two groups read it
    3:1, so they pay 63.154125 and 21.051375; the owner keeps 268.7325 − 84.2055."""
    rows = _worked([ConsumerGroup("billing-settle", ORDERS), ConsumerGroup("fraud.scan", ORDERS)],
                   {("billing-settle", ORDERS): 3e6, ("fraud.scan", ORDERS): 1e6})
    readers = rows[rows["side"] == CONSUMER].set_index("group")
    assert _dollars(readers.loc["billing-settle", "monthly_cost_micros"]) == Decimal("63.154125")
    assert _dollars(readers.loc["fraud.scan", "monthly_cost_micros"]) == Decimal("21.051375")
    assert readers.loc["billing-settle", "owner"] == "billing"  # group rule: first segment
    assert readers.loc["fraud.scan", "owner"] == "fraud"
    assert set(readers["split"]) == {"group"} and (readers["measured_share"] == 1).all()
    producer = rows[(rows["topic"] == ORDERS) & (rows["side"] == PRODUCER)].iloc[0]
    assert producer["owner"] == "payments"
    assert _dollars(producer["monthly_cost_micros"]) == Decimal("184.527")
    assert int(producer["network_consumer_micros"]) == 0
    assert set(rows.loc[rows["side"] == SHARED, "topic"]) == {"__idle__", "__unallocated__"}


def test_rows_reconcile_per_component_to_the_allocation() -> None:
    cost = allocate(worked_example_cluster(), load_builtin_catalog("aws-self-managed"))
    rows = chargeback_rows(cost, [ConsumerGroup("a-1", ORDERS), ConsumerGroup("b-1", ORDERS),
                                  ConsumerGroup("c-1", ORDERS)],
                           {("a-1", ORDERS): 1.0, ("b-1", ORDERS): 2.0})
    for component in COMPONENTS:
        column = f"{component}_micros"
        assert int(rows[column].sum()) == cost.bill_micros[component]
        for topic, part in rows.groupby("topic"):
            assert int(part[column].sum()) == int(
                cost.rows.loc[cost.rows["topic"] == topic, column].iloc[0])


def test_an_unmeasured_group_gets_an_even_share_and_says_so() -> None:
    rows = _worked([ConsumerGroup("billing-a", ORDERS), ConsumerGroup("fraud-b", ORDERS),
                    ConsumerGroup("ads-c", ORDERS)], {("billing-a", ORDERS): 2e6,
                                                      ("fraud-b", ORDERS): 1e6})
    readers = rows[rows["side"] == CONSUMER].set_index("group")
    total = int(readers["monthly_cost_micros"].sum())
    assert total == 84_205_500
    # ads-c unmeasured: a third; the measured two split the other two thirds 2:1.
    assert readers.loc["ads-c", "split"] == "even" and readers.loc["ads-c", "measured_share"] == 0
    assert int(readers.loc["ads-c", "monthly_cost_micros"]) == pytest.approx(total / 3, abs=2)
    assert int(readers.loc["billing-a", "monthly_cost_micros"]) == pytest.approx(
        total * 4 / 9, abs=2)
    both = side_rollup([rows], "topic", CONSUMER).set_index("topic")
    assert both.loc[ORDERS, "measured_share"] == pytest.approx(2 / 3, abs=1e-6)


def test_nobody_known_reads_it_so_its_owner_keeps_the_consumer_side() -> None:
    rows = _worked([])
    unread = rows[rows["side"] == CONSUMER]
    assert list(unread["topic"]) == [ORDERS] and list(unread["split"]) == ["unread"]
    assert list(unread["owner"]) == ["payments"] and list(unread["measured_share"]) == [0.0]


def test_group_owners_follow_group_rules() -> None:
    owners = OwnerAttribution(group_rules=(OwnerRule(pattern=r"^svc-(\w+)-", owner=r"team-\1"),),
                              default_owner="nobody")
    assert owners.group_owner_of("svc-ledger-reader") == "team-ledger"
    assert owners.group_owner_of("console-consumer-1") == "nobody"
    default = OwnerAttribution()
    assert default.group_owner_of("payments-settlement") == "payments"
    assert default.group_owner_of("_confluent-controlcenter") == "platform"


def test_sides_partition_the_wix_fleet_exactly() -> None:
    analysis = analyzed("wix")
    frames = analysis.chargeback_frames()
    for cluster, rows in zip(analysis.clusters.values(), frames, strict=True):
        cost = cluster.model.cost
        for component in COMPONENTS:
            assert int(rows[f"{component}_micros"].sum()) == cost.bill_micros[component]
    owners = {side: side_rollup(frames, "owner", side) for side in (PRODUCER, CONSUMER, "both")}
    shared = sum(int(f.loc[f["side"] == SHARED, "monthly_cost_micros"].sum()) for f in frames)
    assert int(owners["both"]["monthly_cost_micros"].sum()) == analysis.monthly_cost_micros()
    assert (int(owners[PRODUCER]["monthly_cost_micros"].sum())
            + int(owners[CONSUMER]["monthly_cost_micros"].sum()) + shared
            == analysis.monthly_cost_micros())
    consumer = owners[CONSUMER]
    assert (consumer["measured_share"] > 0.99).mean() > 0.9  # the simulator reports reads
    topics = side_rollup(frames, "topic", "both")
    assert len(topics) == sum(len(c.model.cost.rows) for c in analysis.clusters.values())


def _offsets(rows: list[tuple[int, str, str, float | None, float, float]]) -> pd.DataFrame:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return pd.DataFrame(
        [(start + timedelta(minutes=m), g, t, o, b, n) for m, g, t, o, b, n in rows],
        columns=["taken_at", "group", "topic", "committed_offset_sum",
                 "bytes_in_per_second", "messages_in_per_second"])


def test_reads_are_offset_progress_times_bytes_per_message() -> None:
    reads = reads_from_offsets(_offsets([
        # a: 600 messages in 10 minutes at 1,000 B each → 1,000 B/s
        (0, "a", "t", 1000, 5000, 5), (10, "a", "t", 1600, 5000, 5),
        # b: 200 messages, then a reset (offsets go back: that pair measures nothing)
        (0, "b", "t", 1000, 5000, 5), (10, "b", "t", 1200, 5000, 5),
        (20, "b", "t", 100, 5000, 5),
        # c: no committed offsets the first time: only the second pair counts
        (0, "c", "t", None, 5000, 5), (10, "c", "t", 10, 5000, 5), (20, "c", "t", 70, 0, 0),
        # d: the topic produced nothing in either snapshot and d moved: size unknown
        (0, "d", "u", 5, 0, 0), (10, "d", "u", 9, 0, 0),
        # e: did not move: reads nothing, whatever the size
        (0, "e", "u", 5, 0, 0), (10, "e", "u", 5, 0, 0),
    ]))
    assert reads[("a", "t")] == pytest.approx(1000.0)
    assert reads[("b", "t")] == pytest.approx(200 * 1000 / 600)
    assert reads[("c", "t")] == pytest.approx(60 * 1000 / 600)  # earlier snapshot's size
    assert ("d", "u") not in reads
    assert reads[("e", "u")] == 0.0
    assert reads_from_offsets(_offsets([])) == {}


def test_bytes_per_message_of_the_later_snapshot_first() -> None:
    reads = reads_from_offsets(_offsets([(0, "a", "t", 0, 100, 1), (1, "a", "t", 60, 300, 1)]))
    assert reads[("a", "t")] == pytest.approx(60 * 300 / 60)
    assert np.isfinite(list(reads.values())).all()


def test_measured_reads_need_two_snapshots_in_the_window(store: Store) -> None:
    """Read from the store: one snapshot holds no progress (nothing measured, its offsets
    not read); a second 10 minutes later measures the group's offsets' progress."""
    from dataclasses import replace

    from costopt.analyze.analysis import measured_reads

    cluster = worked_example_cluster()
    first = replace(cluster, topics=tuple(
        replace(t, messages_in_per_second=t.bytes_in_per_second / 500) for t in cluster.topics),
        groups=(ConsumerGroup("billing", ORDERS, committed_offset_sum=1_000, members=1),))
    store.save_snapshot(first, catalog=None, source="test")
    assert measured_reads(store, first.cluster, first.taken_at, 24) == {}
    topic = first.topic(ORDERS)
    second = replace(first, taken_at=first.taken_at + timedelta(minutes=10), groups=(
        ConsumerGroup("billing", ORDERS, committed_offset_sum=1_600, members=1),))
    store.save_snapshot(second, catalog=None, source="test")
    assert topic.bytes_in_per_second > 0
    # 600 messages of 500 bytes in 600 seconds
    assert measured_reads(store, first.cluster, second.taken_at, 24) == {
        ("billing", ORDERS): pytest.approx(600 * 500 / 600)}
    # A window reaching back less than the 10 minutes holds one snapshot again.
    assert measured_reads(store, first.cluster, second.taken_at, 0.1) == {}
