"""The store: round trips, idempotent windows, all-or-nothing writes, migrations."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from costopt.base.compression_ratios import estimate
from costopt.simulate.snapshots import history_frame, simulate_cluster
from costopt.store import Store, StoreError
from costopt.store.store import SERIES_COLUMNS, epoch_seconds
from tests.fleets import fleet


def _simulated() -> tuple:
    small = fleet("small")
    item = simulate_cluster(small, small.clusters["cluster"].iloc[0])
    return item, history_frame(item.series)


def test_snapshot_round_trip(store: Store) -> None:
    item, series = _simulated()
    store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated", series=series,
                        samples={"t": [b"a", b"\x00b"]})
    loaded = store.latest_snapshot(item.snapshot.cluster)
    assert loaded.catalog == item.catalog
    assert loaded.snapshot.topics == tuple(sorted(item.snapshot.topics, key=lambda t: t.name))
    assert loaded.snapshot.brokers == item.snapshot.brokers
    assert sorted(loaded.snapshot.groups, key=lambda g: (g.group, g.topic)) == sorted(
        item.snapshot.groups, key=lambda g: (g.group, g.topic))
    stored_series = store.series(item.snapshot.cluster)
    assert len(stored_series) == len(series)
    assert stored_series["ts"].min() == series["ts"].min()
    assert store.samples(item.snapshot.cluster, "t") == [b"a", b"\x00b"]


def test_the_compression_measured_on_samples_is_stored_with_them(store: Store) -> None:
    """An analysis reads the ratios measured when the records were stored, not the records;
    a topic sampled with no records has no estimate, and each collect's samples replace the
    last ones' estimate."""
    item, _ = _simulated()
    first = [b'{"user": %d, "event": "click"}' % i for i in range(300)]
    again = [bytes(range(256)) * 4 for _ in range(20)]
    store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated",
                        samples={"json": first, "empty": []})
    assert store.estimates_of(item.snapshot.cluster) == {"json": estimate(first)}
    assert store.estimates_of(item.snapshot.cluster, topic="json") == {"json": estimate(first)}
    assert store.estimates_of(item.snapshot.cluster, topic="empty") == {}
    later = replace(item.snapshot, taken_at=item.snapshot.taken_at + timedelta(minutes=15))
    store.save_snapshot(later, catalog=item.catalog, source="simulated",
                        samples={"json": again})
    assert store.estimates_of(item.snapshot.cluster) == {"json": estimate(again)}
    assert estimate(again).ratios != estimate(first).ratios


def test_samples_stored_before_0015_are_measured_by_the_upgrade(store: Store) -> None:
    item, _ = _simulated()
    records = [b'{"order": %d, "sku": "A-%d"}' % (i, i % 7) for i in range(200)]
    store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated",
                        samples={"orders": records})
    store.downgrade("0014")
    assert "estimate" not in {c["name"] for c in inspect(store.engine).get_columns(
        "sample_records")}
    store.migrate("head")
    assert store.estimates_of(item.snapshot.cluster) == {"orders": estimate(records)}
    assert store.samples(item.snapshot.cluster, "orders") == records


def test_writing_the_same_window_twice_replaces_it(store: Store) -> None:
    item, series = _simulated()
    for _ in range(2):
        store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated",
                            series=series)
    assert store.snapshot_count() == 1
    assert len(store.series(item.snapshot.cluster)) == len(series)


def test_a_failing_write_leaves_nothing_behind(store: Store) -> None:
    """The last step refuses (two points of one topic at one time), after the snapshot's
    other rows went in: the whole transaction rolls back."""
    item, series = _simulated()
    broken = pd.concat([series, series.tail(1)], ignore_index=True)
    with pytest.raises(StoreError, match="two points at"):
        store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated",
                            series=broken)
    assert store.snapshot_count() == 0
    assert store.series(item.snapshot.cluster).empty
    with pytest.raises(StoreError, match="no snapshot stored"):
        store.latest_snapshot(item.snapshot.cluster)


def test_nan_values_are_refused_before_anything_is_written(store: Store) -> None:
    item, series = _simulated()
    broken = series.copy()
    broken.loc[broken.index[5], "log_size_bytes"] = float("nan")
    with pytest.raises(StoreError, match="NaN or infinity; nothing was stored"):
        store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated",
                            series=broken)
    assert store.snapshot_count() == 0


def test_a_later_window_is_a_new_snapshot(store: Store) -> None:
    item, _ = _simulated()
    later = replace(item.snapshot, taken_at=item.snapshot.taken_at + timedelta(minutes=15))
    store.save_snapshot(item.snapshot, catalog=None, source="collect")
    store.save_snapshot(later, catalog=None, source="collect")
    assert store.snapshot_count(item.snapshot.cluster) == 2
    assert store.latest_snapshot(item.snapshot.cluster).snapshot.taken_at == later.taken_at


def test_migrations_go_down_and_up_on_a_populated_database(store: Store) -> None:
    item, series = _simulated()
    store.save_snapshot(item.snapshot, catalog=item.catalog, source="simulated", series=series)
    store.downgrade("base")
    assert "snapshots" not in inspect(store.engine).get_table_names()
    store.migrate("head")
    assert {"snapshots", "series_blocks", "series_topics", "job_runs"} <= set(
        inspect(store.engine).get_table_names())
    assert store.snapshot_count() == 0


def test_an_existing_store_migrates_its_series_rows_into_blocks(store: Store) -> None:
    """A store written before series blocks (revision 0004, one row per topic and time)
    keeps every point through the upgrade, and gives it back on the way down."""
    item, series = _simulated()
    store.downgrade("0004")
    columns = ["cluster", "topic", "resolution_seconds", "ts_seconds", *SERIES_COLUMNS]
    rows = series.assign(ts_seconds=epoch_seconds(series["ts"]))[columns]
    with store.transaction() as connection:
        connection.execute(text(
            f"INSERT INTO topic_series ({', '.join(columns)}) VALUES "
            f"({', '.join(':' + c for c in columns)})"), rows.to_dict("records"))
    store.migrate("head")
    migrated = store.series(item.snapshot.cluster)
    expected = series.sort_values(["topic", "ts", "resolution_seconds"], kind="stable",
                                  ignore_index=True)
    assert len(migrated) == len(expected)
    for column in ("topic", "resolution_seconds", *SERIES_COLUMNS):
        assert (migrated[column].to_numpy() == expected[column].to_numpy()).all(), column
    assert (migrated["ts"].to_numpy() == expected["ts"].to_numpy()).all()
    store.downgrade("0004")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM topic_series")).scalar() == \
            len(series)
    store.migrate("head")
