"""Change sets of the small fleet's plan: the Strimzi export validates against Strimzi's own
KafkaTopic CRD schema (vendored under `strimzi/` with its licence), the Terraform export
parses as HCL and carries the plan's config values, the Cruise Control calls run as dry runs
first, and every file names each change's plan step, recommendation id and monthly saving."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
import yaml

from costopt.analyze.plan import SavingsPlan
from costopt.changes.export import FORMATS, ExportFile, Format, export_plan
from costopt.changes.topic_changes import config_text, topic_changes
from tests.fleets import analyzed

CRD = Path(__file__).parent / "strimzi" / "043-Crd-kafkatopic.yaml"
ORIGIN = re.compile(r"plan step (\d+), recommendation ([0-9a-f]{16}) \(\w+\), saves "
                    r"-?\d+\.\d\d USD/month")


def _files(fmt: Format) -> tuple[SavingsPlan, list[ExportFile]]:
    analysis = analyzed("small")
    plan = analysis.plan()
    return plan, export_plan(plan, plan.steps, analysis.models, fmt, {})


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["storage"])
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def test_the_strimzi_export_validates_against_the_kafkatopic_crd() -> None:
    plan, files = _files("strimzi")
    schema = _schema()
    changes = topic_changes(plan)
    resources = [doc for f in files if f.path.startswith("strimzi/")
                 for doc in yaml.safe_load_all(f.text)]
    assert len(resources) == len({(c.cluster, c.topic) for c in changes}) > 10
    for resource in resources:
        jsonschema.validate(resource, schema)
        assert resource["metadata"]["labels"]["costopt.io/owner"]
    expected: dict[tuple[str, str], dict[str, str | None]] = {}
    for change in changes:
        expected.setdefault((change.cluster, change.topic), {}).update(change.after)
    for resource in resources:
        key = (resource["metadata"]["labels"]["strimzi.io/cluster"],
               resource["spec"]["topicName"])
        assert {k: config_text(v) for k, v in resource["spec"]["config"].items()} == \
            expected[key]


def test_a_resource_the_crd_refuses_is_refused() -> None:
    """The check can fail: partitions must be an integer of at least 1."""
    _, files = _files("strimzi")
    resource = next(yaml.safe_load_all(next(f for f in files
                                            if f.path.startswith("strimzi/")).text))
    resource["spec"]["partitions"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(resource, _schema())


def test_the_terraform_export_parses_as_hcl_with_the_plans_configs() -> None:
    plan, files = _files("terraform")
    parsed = [hcl2.loads(f.text) for f in files if f.path.endswith(".tf")]
    topics = {}
    for document in parsed:
        for block in document["resource"]:
            for kind, resources in block.items():
                assert kind.strip('"') == "kafka_topic"
                for body in resources.values():
                    topics[body["name"].strip('"')] = body["config"]
    changes = topic_changes(plan)
    assert set(topics) == {c.topic for c in changes}
    for change in changes:
        config = {k.strip('"'): v.strip('"') for k, v in topics[change.topic].items()}
        assert {k: config[k] for k in change.after} == change.after


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_change_names_its_step_recommendation_and_saving(fmt: Format) -> None:
    plan, files = _files(fmt)
    assert files
    by_number = {s.number: s.recommendation.id for s in plan.steps}
    for file in files:
        origins = ORIGIN.findall(file.text)
        assert origins, file.path
        for number, rec_id in origins:
            assert by_number[int(number)] == rec_id


def test_cruise_control_calls_run_as_a_dry_run_first() -> None:
    plan, files = _files("cruise-control")
    calls = [line for f in files if f.path.startswith("cruise-control/")
             for line in f.text.splitlines() if "curl" in line]
    assert calls and len(calls) % 2 == 0
    sizing = [s for s in plan.steps if s.recommendation.kind == "broker_sizing"]
    assert len({f.path for f in files if f.path.startswith("cruise-control/")}) == len(
        {s.recommendation.cluster for s in sizing})
    for dry, real in zip(calls[::2], calls[1::2], strict=True):
        assert dry.startswith("curl") and "dryrun=true" in dry
        assert real == '[ "$APPLY" = yes ] && ' + dry.replace("dryrun=true", "dryrun=false")


def test_client_side_changes_go_to_one_file_per_owner() -> None:
    plan, files = _files("kafka-configs")
    client_steps = [s for s in plan.steps
                    if s.recommendation.change.startswith(("producer config",
                                                           "every consumer of group"))]
    snippets = {f.path: f.text for f in files if f.path.startswith("clients/")}
    assert len(snippets) == len({s.recommendation.owner for s in client_steps}) > 0
    assert sum(text.count("plan step") for text in snippets.values()) == len(client_steps)


def test_confluent_cloud_clusters_get_confluent_kafka_topic_resources() -> None:
    analysis = analyzed("confluent")
    plan = analysis.plan()
    files = [f for f in export_plan(plan, plan.steps, analysis.models, "terraform", {})
             if f.path.endswith(".tf")]
    assert files
    for file in files:
        for block in hcl2.loads(file.text)["resource"]:
            (kind,) = block
            assert kind.strip('"') == "confluent_kafka_topic"
            for body in block[kind].values():
                assert body["topic_name"] and body["config"]
