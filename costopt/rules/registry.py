"""Every rule, in priority order. Add a rule here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from costopt.model import ClusterModel
from costopt.rules.base import BaseRule, History
from costopt.rules.capacity import BrokerSizingRule, RackAwareFetchRule
from costopt.rules.compression import CompressionRule
from costopt.rules.fanout import FanOutRule
from costopt.rules.idle import AbandonedGroupRule, IdleTopicRule
from costopt.rules.partitions import PartitionRule
from costopt.rules.recommendation import Recommendation
from costopt.rules.replication import ReplicationRule
from costopt.rules.retention import RetentionRule
from costopt.rules.tiered import TieredStorageRule

RULES: tuple[BaseRule, ...] = (
    IdleTopicRule(),
    AbandonedGroupRule(),
    RetentionRule(),
    CompressionRule(),
    PartitionRule(),
    ReplicationRule(),
    TieredStorageRule(),
    RackAwareFetchRule(),
    FanOutRule(),
    BrokerSizingRule(),
)
RULE_NAMES = tuple(rule.name for rule in RULES)


def check_rule_settings(settings: Mapping[str, Mapping[str, Any]]) -> None:
    unknown = set(settings) - set(RULE_NAMES)
    if unknown:
        raise ValueError(f"unknown rule(s) in settings: {sorted(unknown)}; rules: "
                         f"{', '.join(RULE_NAMES)}")
    for rule in RULES:
        rule.settings({k: v for k, v in settings.get(rule.name, {}).items() if k != "enabled"})


def run_rules(model: ClusterModel, history: History,
              settings: Mapping[str, Mapping[str, Any]] | None = None,
              rules: Sequence[BaseRule] = RULES) -> list[Recommendation]:
    settings = settings or {}
    found: list[Recommendation] = []
    for rule in rules:
        rule_settings = dict(settings.get(rule.name, {}))
        if not rule_settings.pop("enabled", True):
            continue
        found.extend(rule.evaluate(model, history, rule_settings))
    return found
