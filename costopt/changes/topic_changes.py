"""A plan step that a topic config change carries out, as the configs it sets.

One reading of the plan for both `costopt apply` and `costopt plan export`, so the script a
team runs and the change costopt applies are the same change. A step qualifies when its
recommendation targets a topic and its change is `kafka-configs.sh --alter` of topic configs
(retention, topic-side compression, tiering); partition, replication, deletion and
client-side steps are other formats' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from costopt.analyze.plan import PlanStep, SavingsPlan
from costopt.base.money import Money

# Topic configs a plan step may set through incremental alter configs.
TOPIC_CONFIG_KEYS = ("retention.ms", "retention.bytes", "compression.type",
                     "remote.storage.enable", "local.retention.ms", "min.insync.replicas")


def config_text(value: Any) -> str | None:
    """A config value as Kafka writes it: booleans lower case, None for "not set"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def shown(value: str | None) -> str:
    return "(not set)" if value is None else value


def same_config(live: str | None, expected: str | None) -> bool:
    """Equal as configs: "604800000" and "604800000.0" or "True" and "true" are one value."""
    if live == expected:
        return True
    if live is None or expected is None:
        return False
    if live.lower() == expected.lower():
        return True
    try:
        return float(live) == float(expected)
    except ValueError:
        return False


@dataclass(frozen=True)
class TopicChange:
    """One plan step's config change of one topic: `before` as the plan's snapshot saw it."""

    cluster: str
    topic: str
    owner: str
    before: dict[str, str | None]  # None: not set
    after: dict[str, str | None]
    step: int | None
    recommendation_id: str | None
    kind: str
    monthly_savings: Money  # the step's marginal saving in the plan
    provisional: bool = False

    def diff(self) -> list[str]:
        return [f"{key}: {shown(self.before.get(key))} -> {shown(value)}"
                for key, value in self.after.items()]

    def to_dict(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "topic": self.topic, "owner": self.owner,
                "before": self.before, "after": self.after, "step": self.step,
                "recommendation_id": self.recommendation_id, "kind": self.kind,
                "monthly_savings": str(self.monthly_savings.rounded()),
                "currency": self.monthly_savings.currency, "period": "month"}


def step_change(step: PlanStep, currency: str) -> TopicChange | None:
    """The topic config change `step` makes, or None where it is not one."""
    rec = step.recommendation
    if rec.target_type != "topic" or "kafka-configs.sh" not in rec.change.split(" ", 1)[0]:
        return None
    after: dict[str, str | None] = {key: text for key, value in rec.proposed.items()
             if key in TOPIC_CONFIG_KEYS and (text := config_text(value)) is not None}
    if not after:
        return None
    before = {key: config_text(rec.current.get(key)) for key in after}
    return TopicChange(rec.cluster, rec.target, rec.owner, before, after, step.number, rec.id,
                       rec.kind, Money.from_micros(step.marginal_savings_micros, currency),
                       rec.provisional)


def topic_changes(plan: SavingsPlan, steps: Iterable[str | int] = (),
                  kinds: Iterable[str] = (), cluster: str | None = None) -> list[TopicChange]:
    """The plan's topic config changes in step order, only those of the chosen steps (by
    number or recommendation id), kinds and cluster where given."""
    chosen = selected_steps(plan, steps, kinds, cluster)
    return [change for step in chosen
            if (change := step_change(step, plan.currency)) is not None]


def selected_steps(plan: SavingsPlan, steps: Iterable[str | int] = (),
                   kinds: Iterable[str] = (), cluster: str | None = None) -> list[PlanStep]:
    """The plan's steps narrowed to the steps (number or recommendation id), kinds and cluster
    asked for; an empty filter keeps everything."""
    wanted = {str(s) for s in steps}
    kind_set = set(kinds)
    return [step for step in plan.steps
            if (not wanted or str(step.number) in wanted or step.recommendation.id in wanted)
            and (not kind_set or step.recommendation.kind in kind_set)
            and (cluster is None or step.recommendation.cluster == cluster)]


def by_cluster(changes: Iterable[TopicChange]) -> Mapping[str, list[TopicChange]]:
    out: dict[str, list[TopicChange]] = {}
    for change in changes:
        out.setdefault(change.cluster, []).append(change)
    return out
