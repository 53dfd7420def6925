"""Advice at fleet scale: recommendations grouped by cause or by owner, groups first.

A fleet of thousands of topics yields thousands of findings that share a handful of causes:
the same retention cut on every topic of a cluster that kept the default, the same
min.insync.replicas fix, the idle topics of one team. A group gathers the findings one
decision covers:

- by cause: one cluster, one kind of finding, one proposed setting (`min.insync.replicas=2`,
  `retention.ms=86400000`); where its items all change one topic config to one value, the
  group offers the single change (one what-if over every topic it covers) that a broker
  default or a topic pattern makes in one go;
- by owner: one owner's findings of one kind across the fleet.

A group's count and total are those of its items (the total is their sum, to the micro-unit);
its severity counts say how many items are of each severity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from costopt.base.money import decimal_to_micros
from costopt.base.patterns import MAX_PATTERN_LENGTH
from costopt.changes.topic_changes import TOPIC_CONFIG_KEYS
from costopt.rules.recommendation import Recommendation
from costopt.whatif.changes import Change, Selector

GroupBy = Literal["cause", "owner"]
GROUP_BYS: tuple[GroupBy, ...] = ("cause", "owner")


@dataclass(frozen=True)
class SingleChange:
    """One change that does what every item of a group does."""

    description: str
    settings: dict[str, Any]
    topics: tuple[str, ...]
    whatif: tuple[Change, ...]  # the one setting, over patterns that name exactly `topics`

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "settings": self.settings,
                "topics": list(self.topics), "topic_count": len(self.topics),
                "whatif": [c.model_dump(exclude_none=True) for c in self.whatif]}


@dataclass
class Group:
    key: str
    group_by: GroupBy
    cluster: str | None
    owner: str | None
    kind: str
    category: str
    items: list[Recommendation] = field(default_factory=list)
    single_change: SingleChange | None = None

    @property
    def total_micros(self) -> int:
        return sum(decimal_to_micros(r.monthly_savings.amount) for r in self.items)

    def severities(self) -> dict[str, int]:
        return severity_counts(self.items)

    def to_dict(self, currency: str) -> dict[str, Any]:
        return {"key": self.key, "group_by": self.group_by, "cluster": self.cluster,
                "owner": self.owner, "kind": self.kind, "category": self.category,
                "count": len(self.items),
                # The sum of the items as shown (each to the cent), so a reader's sum agrees.
                "total_monthly_savings": str(sum((r.monthly_savings.rounded()
                                                  for r in self.items), Decimal(0))),
                "currency": currency, "period": "month", "severities": self.severities(),
                "single_change": (self.single_change.to_dict()
                                  if self.single_change is not None else None),
                "items": [rec.id for rec in self.items]}


def severity_counts(recs: Sequence[Recommendation]) -> dict[str, int]:
    """How many findings of each severity (savings have none)."""
    out: dict[str, int] = {}
    for rec in recs:
        if rec.severity is not None:
            out[rec.severity] = out.get(rec.severity, 0) + 1
    return out


def _config_proposal(rec: Recommendation) -> dict[str, Any]:
    """The topic configs a finding proposes (descriptive figures such as ratios left out)."""
    return {k: v for k, v in rec.proposed.items() if k in TOPIC_CONFIG_KEYS}


def _cause_key(rec: Recommendation) -> str:
    return json.dumps([rec.cluster, rec.kind, rec.category, rec.severity,
                       _config_proposal(rec)], sort_keys=True, default=str)


def group_recommendations(recs: Sequence[Recommendation], by: GroupBy) -> list[Group]:
    """Groups, largest total saving first, then most items."""
    groups: dict[str, Group] = {}
    for rec in recs:
        if by == "cause":
            key = _cause_key(rec)
            group = groups.setdefault(key, Group(key, by, rec.cluster, None, rec.kind,
                                                 rec.category))
        else:
            key = json.dumps([rec.owner, rec.kind, rec.category])
            group = groups.setdefault(key, Group(key, by, None, rec.owner, rec.kind,
                                                 rec.category))
        group.items.append(rec)
    out = list(groups.values())
    for group in out:
        if by == "cause":
            group.single_change = single_change(group.items)
    out.sort(key=lambda g: (-g.total_micros, -len(g.items), g.key))
    return out


def single_change(items: Sequence[Recommendation]) -> SingleChange | None:
    """Where every item sets the same topic configs on topics of one cluster, one change
    covering them all: a topic pattern naming exactly those topics (or, where they are every
    topic that kept the cluster's default, the broker default)."""
    if len(items) < 2 or any(r.target_type != "topic" for r in items):
        return None
    settings = _config_proposal(items[0])
    if not settings or len({r.cluster for r in items}) != 1:
        return None
    whatifs = [c for r in items for c in r.whatif]
    if len(whatifs) != len(items):
        return None
    template = whatifs[0].model_dump(exclude={"selector"}, exclude_none=True)
    if any(c.model_dump(exclude={"selector"}, exclude_none=True) != template
           for c in whatifs):
        return None
    topics = tuple(sorted(r.target for r in items))
    changes = tuple(Change.model_validate({**template, "selector": Selector(
        cluster=items[0].cluster, pattern=pattern).model_dump(exclude_none=True)})
        for pattern in exact_patterns(topics))
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    return SingleChange(
        f"set {shown} on the {len(topics)} topics of cluster {items[0].cluster} this covers "
        "(as a broker default where they are the topics that kept the cluster's default)",
        settings, topics, changes)


def exact_patterns(topics: Sequence[str]) -> list[str]:
    """Anchored patterns that together match exactly `topics`, each within the what-if's
    pattern length limit (`costopt/base/patterns.py`)."""
    out: list[str] = []
    names: list[str] = []
    for topic in topics:
        escaped = re.escape(topic)
        if names and len("^(?:)$") + sum(len(n) + 1 for n in names) + len(escaped) \
                > MAX_PATTERN_LENGTH:
            out.append("^(?:" + "|".join(names) + ")$")
            names = []
        names.append(escaped)
    if names:
        out.append("^(?:" + "|".join(names) + ")$")
    return out
