"""Price catalogs: every shipped file loads; a broken file is refused naming file, field, value."""

from __future__ import annotations

from pathlib import Path

import pytest

from costopt.pricing import CatalogError, builtin_catalog_names, load_builtin_catalog, load_catalog
from costopt.pricing.catalog import resolve_catalog


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
    return (Path(__file__).resolve().parents[2] / "costopt/pricing/catalogs/aws-self-managed.yaml"
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
