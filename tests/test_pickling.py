"""Slotted records cross process boundaries and the analysis cache by `SlotsPickle`: each comes
back equal, of its class, with every field, whether it has one field or many."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal

from costopt.base.money import Money
from costopt.base.pickling import SlotsPickle
from costopt.rules.recommendation import Evidence
from costopt.snapshot.cluster_snapshot import ConsumerGroup, Topic


@dataclass(frozen=True, slots=True)
class _One(SlotsPickle):
    only: tuple[int, ...]


def test_slotted_records_round_trip_through_pickle() -> None:
    records = [
        Topic(name="orders", partitions=12, replication_factor=3, retention_ms=604_800_000,
              bytes_in_per_second=1.5e6, messages_in_per_second=2_000.0,
              bytes_out_per_second=3e6, log_size_bytes=9 * 2**30),
        ConsumerGroup(group="billing", topic="orders", lag_messages=7,
                      last_commit_at=datetime(2026, 11, 30, tzinfo=UTC)),
        Evidence("max_bytes_in_per_second", 0, "bytes/s"),
        Money(Decimal("12.345678"), "EUR"),
        _One((1, 2)),
    ]
    for record in records:
        back = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(record)
        assert back == record
        assert [getattr(back, f.name) for f in fields(record)] == \
            [getattr(record, f.name) for f in fields(record)]
    assert pickle.loads(pickle.dumps(_One((3,)))).only == (3,)
