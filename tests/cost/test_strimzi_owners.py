"""Owners from Strimzi KafkaTopic resources, and the documented precedence: the mapping file,
then Strimzi, then the regex rules, then the default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from costopt.analyze.analysis import owner_attribution, settings_key
from costopt.config import OwnerSettings, Settings
from costopt.cost.owners import OwnerRule
from costopt.cost.strimzi import StrimziError, strimzi_owners


def _topic(name: str, labels: dict[str, str] | None = None,
           annotations: dict[str, str] | None = None, topic_name: str | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": "kafka",
                      "labels": {"strimzi.io/cluster": "main", **(labels or {})}}
    if annotations:
        metadata["annotations"] = annotations
    spec: dict = {"partitions": 12, "replicas": 3}
    if topic_name:
        spec["topicName"] = topic_name
    return {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
            "metadata": metadata, "spec": spec}


@pytest.fixture
def topics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "strimzi-topics"
    directory.mkdir()
    # What `kubectl get kafkatopics -A -o yaml` writes: a List.
    (directory / "kafkatopics.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "List", "items": [
            _topic("orders-v1", labels={"team": "checkout"}, topic_name="payments.orders.v1"),
            _topic("clicks", annotations={"costopt.io/owner": "growth"}),
            _topic("audit-log", labels={"team": "security"},
                   annotations={"costopt.io/owner": "compliance"}),
            _topic("no-owner"),
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
        ]}))
    # A hand-kept file with several documents.
    (directory / "more.yml").write_text(yaml.safe_dump_all([
        _topic("search.queries", labels={"owner": "search-infra"}),
        _topic("mapped.elsewhere", labels={"team": "strimzi-team"})]))
    return directory


def test_owners_come_from_labels_or_annotations(topics_dir: Path) -> None:
    assert strimzi_owners(topics_dir) == {
        "payments.orders.v1": "checkout",  # spec.topicName wins over metadata.name
        "clicks": "growth",
        "audit-log": "compliance",  # costopt.io/owner before team
        "search.queries": "search-infra",
        "mapped.elsewhere": "strimzi-team",
    }
    assert strimzi_owners(topics_dir, keys=["team"])["audit-log"] == "security"


def test_precedence_is_mapping_file_then_strimzi_then_rules_then_default(
        topics_dir: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "owners.yaml"
    mapping.write_text(yaml.safe_dump({"mapped.elsewhere": "file-team"}))
    settings = Settings(owners=OwnerSettings(
        mapping_file=str(mapping), strimzi_topics_dir=str(topics_dir),
        rules=[OwnerRule(pattern=r"^([a-z]+)\.", owner=r"\1")], default_owner="nobody"))
    owners = owner_attribution(settings)
    assert owners.owner_of("mapped.elsewhere") == "file-team"  # the mapping file first
    assert owners.owner_of("payments.orders.v1") == "checkout"  # then Strimzi, over the rule
    assert owners.owner_of("ledger.entries") == "ledger"  # then the rules
    assert owners.owner_of("no-owner") == "nobody"  # then the default


def test_editing_the_resources_changes_the_analysis_key(topics_dir: Path) -> None:
    settings = Settings(owners=OwnerSettings(strimzi_topics_dir=str(topics_dir)))
    before = settings_key(settings)
    (topics_dir / "more.yml").write_text(yaml.safe_dump(_topic("x", labels={"team": "y"})))
    assert settings_key(settings) != before


def test_a_broken_file_or_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(StrimziError, match="is not a directory"):
        strimzi_owners(tmp_path / "missing")
    (tmp_path / "bad.yaml").write_text("kind: KafkaTopic\nmetadata: [unclosed\n")
    with pytest.raises(StrimziError, match=r"bad\.yaml: not valid YAML"):
        strimzi_owners(tmp_path)
