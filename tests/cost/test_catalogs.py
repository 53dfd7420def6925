"""Price catalogs: every shipped file loads; a broken file is refused naming file, field, value."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from costopt.prices import CatalogError, builtin_catalog_names, load_builtin_catalog, load_catalog
from costopt.prices.catalog import (
    blocks,
    copied_blocks,
    line_marks,
    resolve_catalog,
    stated_lines,
    unverified_share,
)


def test_every_builtin_catalog_loads_and_states_its_source() -> None:
    names = builtin_catalog_names()
    assert {"aws-self-managed", "gcp-self-managed", "azure-self-managed", "aws-msk",
            "confluent-cloud", "on-prem"} <= set(names)
    for name in names:
        catalog = load_builtin_catalog(name)
        assert catalog.name == name
        assert catalog.source and catalog.as_of.year >= 2025
        assert catalog.compute_per_hour or catalog.capacity_unit is not None
        for region, prices in catalog.regions.items():
            assert region != catalog.region
            assert prices.source and prices.as_of.year >= 2025, (name, region)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


def _valid_text() -> str:
    return (Path(__file__).resolve().parents[2] / "costopt/prices/catalogs/aws-self-managed.yaml"
            ).read_text()


def test_users_own_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, _valid_text().replace("name: aws-self-managed", "name: ours"))
    assert resolve_catalog(str(path)).name == "ours"


def test_negative_price_is_refused_naming_file_field_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, _valid_text().replace("block_storage_per_gb_month: 0.08",
                                                  "block_storage_per_gb_month: -0.08"))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert str(path) in message and "block_storage_per_gb_month" in message
    assert "-0.08" in message


def test_unknown_field_and_bad_type_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _valid_text() + "cheap_storage: yes\n")
    with pytest.raises(CatalogError, match="cheap_storage"):
        load_catalog(path)
    path = _write(tmp_path, _valid_text().replace("m5.large: 0.096", "m5.large: cheap"))
    with pytest.raises(CatalogError, match=r"compute_per_hour\.m5\.large.*'cheap'"):
        load_catalog(path)


def test_not_yaml_or_not_a_mapping_or_missing(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(_write(tmp_path, "name: [unclosed"))
    with pytest.raises(CatalogError, match="is a mapping"):
        load_catalog(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "absent.yaml")
    with pytest.raises(CatalogError, match="no built-in price catalog"):
        load_builtin_catalog("nope")


# --- Verified prices, copied regions, disk tiers (issue 30) -----------------------------------

def test_every_shipped_price_line_is_marked_verified_or_unverified() -> None:
    """Each line states where and when it was checked against the vendor, or that it was not:
    the file names every line (or its whole price line) explicitly, none left to the default."""
    for name in builtin_catalog_names():
        catalog = load_builtin_catalog(name)
        for region, block in blocks(catalog).items():
            marks = block.verification  # type: ignore[attr-defined]
            for line in stated_lines(block):
                assert any(line == k or line.startswith(k + "[") for k in marks), \
                    (name, region, line)
            for line, mark in line_marks(block).items():
                assert mark.startswith("unverified") or re.match(
                    r"^verified: .+, \d{4}-\d{2}-\d{2}$", mark), (name, region, line, mark)
        unverified, total = unverified_share(catalog)
        assert 0 <= unverified <= total and total > 0, name


def test_the_lines_fixed_in_issue_30_are_the_vendors_and_marked_verified() -> None:
    euc1 = load_builtin_catalog("aws-self-managed@eu-central-1")
    published = {"i3en.large": "0.27", "i3en.xlarge": "0.54", "i3en.2xlarge": "1.08",
                 "i4i.large": "0.205", "i4i.xlarge": "0.409", "i4i.2xlarge": "0.818",
                 "i4i.4xlarge": "1.637", "im4gn.large": "0.21688", "im4gn.xlarge": "0.43375",
                 "im4gn.2xlarge": "0.8675", "im4gn.4xlarge": "1.73501"}
    marks = line_marks(load_builtin_catalog("aws-self-managed").regions["eu-central-1"])
    for instance, price in published.items():
        assert euc1.compute_price_per_hour(instance) == Decimal(price), instance
        assert marks[f"compute_per_hour[{instance}]"].startswith("verified: "), instance
    aps1 = load_builtin_catalog("aws-msk@ap-southeast-1")
    assert aps1.compute_price_per_hour("kafka.m5.large") == Decimal("0.263")
    assert aps1.compute_price_per_hour("kafka.m7g.large") == Decimal("0.255")
    assert aps1.source != load_builtin_catalog("aws-msk@eu-central-1").source


def test_a_region_block_copied_from_another_is_caught(tmp_path: Path) -> None:
    """The shipped catalogs have no copied block; a file whose ap-southeast-1 instance prices
    are eu-central-1's, as `aws-msk` had, is caught, and one saying `same_prices_as` is not."""
    for name in builtin_catalog_names():
        assert copied_blocks(load_builtin_catalog(name)) == [], name
    text = _valid_text()
    euc1 = text.split("  eu-central-1:\n", 1)[1].split("    compute_per_hour:\n", 1)[1]
    euc1_compute = euc1.split("    block_storage_per_gb_month:", 1)[0]
    head, aps1 = text.split("  ap-southeast-1:\n", 1)
    before, after = aps1.split("    compute_per_hour:\n", 1)
    after = after[after.index("    block_storage_per_gb_month:"):]
    copied = _write(tmp_path, head + "  ap-southeast-1:\n" + before + "    compute_per_hour:\n"
                    + euc1_compute + after)
    found = copied_blocks(load_catalog(copied))
    assert ("ap-southeast-1", "eu-central-1", "compute_per_hour") in found
    same = load_builtin_catalog("aws-self-managed@us-west-2")
    assert same.compute_per_hour == load_builtin_catalog("aws-self-managed").compute_per_hour


def test_a_mark_that_is_neither_verified_nor_unverified_or_names_no_line_is_refused(
        tmp_path: Path) -> None:
    text = _valid_text()
    bad = _write(tmp_path, text.replace("verification: {compute_per_hour: unverified,",
                                        "verification: {compute_per_hour: checked,", 1))
    with pytest.raises(CatalogError, match=r"'checked' is neither"):
        load_catalog(bad)
    stray = _write(tmp_path, text.replace("verification: {compute_per_hour: unverified,",
                                          "verification: {'compute_per_hour[m9.huge]': unverified,"
                                          " compute_per_hour: unverified,", 1))
    with pytest.raises(CatalogError, match=r"names no price line stated here.*m9\.huge"):
        load_catalog(stray)


def test_azure_premium_ssd_is_billed_by_the_tier_the_disk_falls_in() -> None:
    """East US Premium SSD: 3 brokers with 1,000 GiB (P30, 135.17), 1,500 GiB (P40, 259.05) and
    4,096 GiB (P50, 495.57) are 889.79 a month; 5,000 GiB is a P50 and a P30 (the rest, 904
    GiB): 630.74. Per GB at 0.12 the first three would have been 791.52."""
    from dataclasses import replace

    from costopt.cost.allocation import allocate
    from tests.fixtures_cost import GIB, worked_example_cluster

    snapshot = worked_example_cluster("Standard_D4s_v5")
    sizes = (1000, 1500, 4096)
    brokers = tuple(replace(b, disk_capacity_bytes=size * GIB)
                    for b, size in zip(snapshot.brokers, sizes, strict=True))
    catalog = resolve_catalog("azure-self-managed")
    cost = allocate(replace(snapshot, brokers=brokers), catalog)
    assert cost.bill_micros["storage_local"] == 889_790_000
    assert int(cost.rows["storage_local_micros"].sum()) == 889_790_000  # reconciles
    big = (replace(brokers[0], disk_capacity_bytes=5000 * GIB),)
    assert allocate(replace(snapshot, brokers=big), catalog).bill_micros["storage_local"] \
        == 630_740_000
    # West Europe states no tiers: per GB there.
    weu = allocate(replace(snapshot, brokers=brokers),
                   resolve_catalog("azure-self-managed@westeurope"))
    assert weu.bill_micros["storage_local"] == 890_460_000  # 6,596 GiB x 0.135


def test_config_check_prints_each_catalogs_unverified_share(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from jobs.cli import app

    example = Path(__file__).resolve().parents[2] / "examples" / "costopt.yaml"
    config = yaml.safe_load(example.read_text())
    second = {**config["clusters"][0], "name": "payments-msk", "catalog": "aws-msk",
              "region": "ap-southeast-1", "instance_type": "kafka.m7g.large"}
    config["clusters"].append(second)
    path = tmp_path / "costopt.yaml"
    path.write_text(yaml.safe_dump(config))
    checked = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output
    for name in ("aws-self-managed", "aws-msk"):
        unverified, total = unverified_share(load_builtin_catalog(name))
        assert (f"prices {name}: {unverified} of {total} lines unverified "
                f"({unverified / total:.0%})") in checked.output
    assert "is a copy of" not in checked.output
