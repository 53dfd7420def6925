"""Change sets: the savings plan written for the tools teams already apply changes with.

- `kafka-configs`: one idempotent shell script per cluster (`--alter --add-config` sets a
  value, so running it twice changes nothing), the current value in a comment beside each;
- `strimzi`: `KafkaTopic` resources of the topics changed, with the spec fields the plan
  changes and the owner label (`costopt.io/owner`, which costopt also reads owners from);
- `terraform`: `kafka_topic` resources (Mongey/kafka provider), `confluent_kafka_topic` on
  Confluent Cloud clusters, with the changed `config` entries;
- `cruise-control`: the REST calls for broker removal and disk changes, `dryrun=true` first.
Every format also writes the client-side changes (producer codec and batching, consumer
`client.rack`) as one snippet file per owner: no broker can apply those.

Every file says which plan step and recommendation id each change comes from and its monthly
saving. The topic config changes are the ones `costopt apply` makes (`topic_changes.py`).
"""

from __future__ import annotations

import io
import re
import shlex
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from costopt.analyze.plan import PlanStep, SavingsPlan
from costopt.base.money import Money, decimal_to_micros
from costopt.changes.topic_changes import TopicChange, by_cluster, shown, step_change
from costopt.cost.cluster_model import ClusterModel

Format = Literal["kafka-configs", "strimzi", "terraform", "cruise-control"]
FORMATS: tuple[Format, ...] = ("kafka-configs", "strimzi", "terraform", "cruise-control")
OWNER_LABEL = "costopt.io/owner"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, where PyYAML has it


@dataclass(frozen=True)
class ExportFile:
    path: str  # relative, e.g. kafka-configs/prod-eu.sh
    text: str


def _money(micros: int, currency: str) -> str:
    return f"{Money.from_micros(micros, currency).rounded()} {currency}/month"


def _origin(change: TopicChange) -> str:
    return (f"plan step {change.step}, recommendation {change.recommendation_id} ({change.kind}),"
            f" saves {change.monthly_savings.rounded()} {change.monthly_savings.currency}/month")


def _step_origin(step: PlanStep, currency: str) -> str:
    rec = step.recommendation
    return (f"plan step {step.number}, recommendation {rec.id} ({rec.kind}), saves "
            f"{_money(step.marginal_savings_micros, currency)}")


def _safe(name: str) -> str:
    """A name usable as a file name, a Kubernetes resource name or an HCL label."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "topic"


def kafka_configs(changes: Sequence[TopicChange], bootstrap: Mapping[str, str | None]
                  ) -> list[ExportFile]:
    files = []
    for cluster, items in by_cluster(changes).items():
        total = sum(decimal_to_micros(c.monthly_savings.amount) for c in items)
        currency = items[0].monthly_savings.currency
        lines = ["#!/bin/sh",
                 f"# costopt plan export: cluster {cluster}, {len(items)} topic config "
                 f"change(s), {_money(total, currency)} in all.",
                 "# Idempotent: --add-config sets each value, so a second run changes nothing.",
                 "set -eu",
                 f"BOOTSTRAP=\"${{BOOTSTRAP:-{bootstrap.get(cluster) or 'broker:9092'}}}\"",
                 ""]
        for change in items:
            settings = ",".join(f"{k}={v}" for k, v in change.after.items() if v is not None)
            current = ", ".join(f"{k}={shown(change.before.get(k))}" for k in change.after)
            lines += [f"# {_origin(change)}",
                      f"kafka-configs.sh --bootstrap-server \"$BOOTSTRAP\" --alter "
                      f"--entity-type topics --entity-name {shlex.quote(change.topic)} "
                      f"--add-config {shlex.quote(settings)}  # current: {current}", ""]
        files.append(ExportFile(f"kafka-configs/{_safe(cluster)}.sh", "\n".join(lines)))
    return files


def _per_topic(changes: Sequence[TopicChange]) -> dict[tuple[str, str], list[TopicChange]]:
    out: dict[tuple[str, str], list[TopicChange]] = {}
    for change in changes:
        out.setdefault((change.cluster, change.topic), []).append(change)
    return out


def _typed(value: str | None) -> int | str | bool | None:
    """A config value as a KafkaTopic's `spec.config` holds it (numbers as numbers)."""
    if value is None or value.lower() not in ("true", "false"):
        try:
            return int(value) if value is not None else None
        except ValueError:
            return value
    return value.lower() == "true"


def strimzi(changes: Sequence[TopicChange], models: Mapping[str, ClusterModel]
            ) -> list[ExportFile]:
    files = []
    for cluster, items in by_cluster(changes).items():
        documents = []
        for (_, topic), steps in _per_topic(items).items():
            config: dict[str, int | str | bool | None] = {}
            for change in steps:
                config.update({k: _typed(v) for k, v in change.after.items()})
            model = models.get(cluster)
            resource = {
                "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
                "metadata": {"name": _safe(topic), "labels": {
                    "strimzi.io/cluster": cluster, OWNER_LABEL: _safe(steps[0].owner)}},
                "spec": {"topicName": topic, **_shape(model, topic),
                         "config": {k: v for k, v in config.items() if v is not None}}}
            comments = "".join(f"# {_origin(c)}\n" for c in steps)
            documents.append(comments + yaml.dump(resource, Dumper=DUMPER, sort_keys=False))
        files.append(ExportFile(f"strimzi/{_safe(cluster)}.yaml", "---\n".join(documents)))
    return files


def _shape(model: ClusterModel | None, topic: str) -> dict[str, int]:
    """The topic's partitions and replicas as they are (a KafkaTopic states them)."""
    if model is None:
        return {}
    try:
        found = model.snapshot.topic(topic)
    except KeyError:
        return {}
    return {"partitions": found.partitions, "replicas": found.replication_factor}


def _hcl(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def terraform(changes: Sequence[TopicChange], models: Mapping[str, ClusterModel]
              ) -> list[ExportFile]:
    files = []
    for cluster, items in by_cluster(changes).items():
        model = models.get(cluster)
        confluent = model is not None and model.catalog.kind == "confluent_cloud"
        blocks = [f"# costopt plan export: cluster {cluster}, topic config changes"]
        for (_, topic), steps in _per_topic(items).items():
            config: dict[str, str | None] = {}
            current: dict[str, str | None] = {}
            for change in steps:
                config.update(change.after)
                current.update(change.before)
            shape = _shape(model, topic)
            entries = "\n".join(
                f"    {_hcl(k)} = {_hcl(v)}  # current: {shown(current.get(k))}"
                for k, v in config.items() if v is not None)
            lines = [*(f"# {_origin(c)}" for c in steps)]
            if confluent:
                lines += [f"resource \"confluent_kafka_topic\" \"{_safe(topic)}\" {{",
                          "  kafka_cluster {", "    id = var.kafka_cluster_id", "  }",
                          f"  topic_name       = {_hcl(topic)}"]
                if "partitions" in shape:
                    lines.append(f"  partitions_count = {shape['partitions']}")
            else:
                lines += [f"resource \"kafka_topic\" \"{_safe(topic)}\" {{",
                          f"  name               = {_hcl(topic)}"]
                if shape:
                    lines += [f"  partitions         = {shape['partitions']}",
                              f"  replication_factor = {shape['replicas']}"]
            lines += ["  config = {", entries, "  }", "}", ""]
            blocks.append("\n".join(lines))
        files.append(ExportFile(f"terraform/{_safe(cluster)}.tf", "\n".join(blocks)))
    return files


def cruise_control(steps: Sequence[PlanStep], models: Mapping[str, ClusterModel],
                   currency: str) -> list[ExportFile]:
    """Broker removal (the highest broker ids) and disk changes, dry run first."""
    out: dict[str, list[str]] = {}
    for step in steps:
        rec = step.recommendation
        if rec.kind != "broker_sizing":
            continue
        model = models.get(rec.cluster)
        ids = sorted(b.broker_id for b in model.snapshot.brokers) if model else []
        now, proposed = int(rec.current.get("brokers", len(ids))), int(
            rec.proposed.get("brokers", len(ids)))
        lines = out.setdefault(rec.cluster, [
            "#!/bin/sh",
            f"# costopt plan export: Cruise Control calls for cluster {rec.cluster}. Each "
            "runs as a dry run first; read the proposals, then run again with APPLY=yes.",
            "set -eu", 'CC="${CRUISE_CONTROL:-http://cruise-control:9090}"',
            'APPLY="${APPLY:-no}"', ""])
        lines.append(f"# {_step_origin(step, currency)}")
        calls = []
        if proposed < now and ids:
            removed = ",".join(str(i) for i in ids[proposed - now:])
            calls.append(f"remove_broker?brokerid={removed}")
        elif proposed > now:
            calls.append("add_broker?brokerid=<new broker ids>")
        if rec.proposed.get("disk_bytes") != rec.current.get("disk_bytes"):
            lines.append(f"# disks: {rec.current.get('disk_bytes')} -> "
                         f"{rec.proposed.get('disk_bytes')} bytes per broker; rebalance "
                         "for disk usage once the volumes are resized")
            calls.append("rebalance?goals=DiskUsageDistributionGoal")
        for call in calls:
            url = f"$CC/kafkacruisecontrol/{call}"
            lines += [f"curl -fsS -X POST \"{url}&dryrun=true&json=true\"",
                      f"[ \"$APPLY\" = yes ] && curl -fsS -X POST \"{url}&dryrun=false"
                      "&json=true\""]
        lines.append("")
    return [ExportFile(f"cruise-control/{_safe(c)}.sh", "\n".join(lines))
            for c, lines in out.items()]


def client_snippets(steps: Sequence[PlanStep], currency: str) -> list[ExportFile]:
    """Producer and consumer settings, one file per owner: what their clients must change."""
    out: dict[str, list[str]] = {}
    for step in steps:
        rec = step.recommendation
        client = rec.change.startswith(("producer config", "every consumer of group"))
        if not client:
            continue
        lines = out.setdefault(rec.owner, [
            f"# costopt plan export: client settings for owner {rec.owner}; no broker can "
            "apply these, the owner's producers and consumers must."])
        lines += [f"# {_step_origin(step, currency)} (cluster {rec.cluster}, {rec.target})",
                  rec.change, ""]
    return [ExportFile(f"clients/{_safe(owner)}.txt", "\n".join(lines))
            for owner, lines in out.items()]


def export_plan(plan: SavingsPlan, steps: Iterable[PlanStep], models: Mapping[str, ClusterModel],
                fmt: Format, bootstrap: Mapping[str, str | None]) -> list[ExportFile]:
    """The files of one format for the chosen plan steps, client snippets included."""
    chosen = list(steps)
    changes = [c for s in chosen if (c := step_change(s, plan.currency)) is not None]
    if fmt == "kafka-configs":
        files = kafka_configs(changes, bootstrap)
    elif fmt == "strimzi":
        files = strimzi(changes, models)
    elif fmt == "terraform":
        files = terraform(changes, models)
    else:
        files = cruise_control(chosen, models, plan.currency)
    return files + client_snippets(chosen, plan.currency)


def zipped(files: Sequence[ExportFile]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(file.path, file.text)
    return buffer.getvalue()
