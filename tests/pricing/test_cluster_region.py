"""A cluster is priced where it runs: its configured region reaches the stored catalog ref,
the collect labels carry tiered storage and egress, and the simulated demo fleet prices each
cluster in its own region."""

from __future__ import annotations

import pytest

from costopt.analyze.analysis import catalog_for
from costopt.config import ClusterSettings, ConfigError, Settings, load_settings
from costopt.prices.catalog import resolve_catalog
from costopt.simulate.fleet import generate_fleet
from costopt.simulate.presets import preset
from costopt.simulate.snapshots import simulate_clusters
from costopt.sources.collect import pricing_labels
from costopt.sources.kafka.admin import AdminData
from costopt.store.store import StoredSnapshot
from tests.fixtures_cost import worked_example_cluster


def test_the_small_demo_prices_each_cluster_in_its_own_region() -> None:
    refs = {item.snapshot.cluster: item.catalog
            for item in simulate_clusters(generate_fleet(preset("small")))}
    assert refs == {"use1-main": "aws-self-managed@us-east-1",
                    "euw1-events": "aws-self-managed@eu-west-1",
                    "apse1-logs": "aws-msk@ap-southeast-1"}
    assert resolve_catalog(refs["apse1-logs"]).compute_price_per_hour(
        "kafka.m5.2xlarge") == resolve_catalog("aws-msk@ap-southeast-1").compute_per_hour[
        "kafka.m5.2xlarge"]


def test_a_configured_region_prices_snapshots_stored_without_one() -> None:
    settings = Settings(clusters=[ClusterSettings(name="east", catalog="aws-self-managed",
                                                  region="eu-central-1")])
    stored = StoredSnapshot(1, worked_example_cluster(), "aws-self-managed", "collect")
    assert catalog_for(stored, settings).region == "eu-central-1"
    assert settings.clusters[0].catalog_ref == "aws-self-managed@eu-central-1"
    elsewhere = StoredSnapshot(1, worked_example_cluster(), "aws-msk@us-west-2", "collect")
    assert catalog_for(elsewhere, settings).region == "us-west-2"


def test_collect_labels_say_whether_brokers_tier_and_where_reads_leave() -> None:
    admin = AdminData([], {}, [], {"remote.log.storage.system.enable": "false"})
    cluster = ClusterSettings(name="c", internet_egress_share=0.1,
                              cross_region_egress_share=0.25)
    assert pricing_labels(cluster, admin) == {
        "remote.log.storage.system.enable": "false", "egress.internet_share": "0.1",
        "egress.cross_region_share": "0.25"}
    told = ClusterSettings(name="c", tiered_storage=True)
    assert pricing_labels(told, admin) == {"remote.log.storage.system.enable": "true"}
    assert pricing_labels(ClusterSettings(name="c"), None) == {}


def test_egress_shares_above_one_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text("clusters:\n  - name: c\n    internet_egress_share: 0.7\n"
                    "    cross_region_egress_share: 0.6\n")
    with pytest.raises(ConfigError, match="at most 1"):
        load_settings(path)
