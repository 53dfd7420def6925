"""Bytes per principal (Confluent's service accounts) are kept with each snapshot, on the
embedded default and on a real PostgreSQL, per topic and cluster-wide (`topic` None)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costopt.simulate.snapshots import simulate_cluster
from costopt.snapshot.cluster_snapshot import PrincipalTraffic
from costopt.store import Store, StoreError
from tests.fleets import fleet


def _confluent_snapshot():  # type: ignore[no-untyped-def]
    simulated = fleet("confluent")
    item = simulate_cluster(simulated, "standard-orders")
    # A source that knows a principal's bytes for the whole cluster only (no topic label).
    cluster_wide = PrincipalTraffic("sa-clusterwide", None, 1234.5, 6789.25, None)
    return item, replace(item.snapshot, principals=(*item.snapshot.principals, cluster_wide))


def _key(p: PrincipalTraffic) -> tuple[str, str]:
    return p.principal_id, p.topic or ""


def test_principals_round_trip(store: Store) -> None:
    item, snapshot = _confluent_snapshot()
    assert len(snapshot.principals) > 100  # the preset plants service accounts on every topic
    store.save_snapshot(snapshot, catalog=item.catalog, source="simulated")
    loaded = store.latest_snapshot(snapshot.cluster).snapshot
    assert sorted(loaded.principals, key=_key) == sorted(snapshot.principals, key=_key)
    assert any(p.topic is None and p.display_name is None for p in loaded.principals)
    # Writing the same window again replaces its principals rather than adding to them.
    store.save_snapshot(snapshot, catalog=item.catalog, source="simulated")
    assert len(store.latest_snapshot(snapshot.cluster).snapshot.principals) == len(
        snapshot.principals)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_a_bad_principal_rate_is_refused_and_nothing_is_stored(store: Store,
                                                              value: float) -> None:
    item, snapshot = _confluent_snapshot()
    bad = replace(snapshot, principals=(PrincipalTraffic("sa-bad", "t", value, 0.0),))
    with pytest.raises(StoreError, match="principal 'sa-bad' has bytes_in_per_second"):
        store.save_snapshot(bad, catalog=item.catalog, source="simulated")
    assert store.snapshot_count() == 0


def test_migration_down_to_0008_drops_the_principals_and_up_restores_the_table(
        store: Store) -> None:
    from sqlalchemy import inspect

    item, snapshot = _confluent_snapshot()
    store.save_snapshot(snapshot, catalog=item.catalog, source="simulated")
    store.downgrade("0008")
    tables = set(inspect(store.engine).get_table_names())
    assert "snapshot_principals" not in tables and "snapshot_topics" in tables
    store.migrate("head")
    assert "snapshot_principals" in inspect(store.engine).get_table_names()
    assert store.latest_snapshot(snapshot.cluster).snapshot.topics  # the rest was kept
