"""Bills need a store (SQLite and the real PostgreSQL) holding clusters they can map to."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from costopt.config import BillingSettings, ClusterSettings, Settings
from costopt.snapshot.cluster_snapshot import ClusterSnapshot
from costopt.store import Store, sqlite_url
from tests.fixtures_cost import worked_example_cluster

SAMPLES = Path(__file__).resolve().parent / "samples"
# The sample bills' clusters: an MSK cluster (found by ARN or tag), a self-managed one (EC2 and
# EBS found by resource id or tag), a Confluent Cloud one (found by its lkc- id).
CATALOGS = {"orders-prod": "aws-msk", "payments-self": "aws-self-managed",
            "events-cc": "confluent-cloud"}
INSTANCE = {"aws-msk": "kafka.m5.large", "aws-self-managed": "m5.large",
            "confluent-cloud": "CKU"}


def settings_for(url: str, **allocation: object) -> Settings:
    return Settings(
        store_url=url, clusters=[ClusterSettings(name=n, catalog=c) for n, c in CATALOGS.items()],
        billing=BillingSettings(resources={
            "i-0a1b2c3d4e5f60002": "payments-self", "vol-0feedbeef0001": "payments-self",
            "lkc-7yy0x": "events-cc"}),
        allocation=allocation or {})  # type: ignore[arg-type]


def snapshot_of(cluster: str) -> ClusterSnapshot:
    """The worked example's cluster (docs/cost-model.md) under another name and broker type."""
    base = worked_example_cluster(INSTANCE[CATALOGS[cluster]])
    return replace(base, cluster=cluster)


def seeded(url: str) -> Store:
    """A store holding one snapshot of each sample bill's cluster (taken 2026-11-01)."""
    opened = Store.open(url)
    for cluster, catalog in CATALOGS.items():
        opened.save_snapshot(snapshot_of(cluster), catalog=catalog, source="test")
    return opened


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return seeded(sqlite_url(tmp_path / "costopt.db"))
    return seeded(request.getfixturevalue("postgres").new_database())
