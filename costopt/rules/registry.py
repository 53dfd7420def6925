"""Every rule, in priority order. Add a rule here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import BaseRule, RuleContext, Skip
from costopt.rules.capacity import BrokerSizingRule
from costopt.rules.cku_headroom import CkuHeadroomRule
from costopt.rules.compression import CompressionRule
from costopt.rules.diskless_lane import LaneRule
from costopt.rules.fanout import FanOutRule
from costopt.rules.history import History
from costopt.rules.idle import AbandonedGroupRule, IdleTopicRule
from costopt.rules.partitions import PartitionRule
from costopt.rules.protected import Protection
from costopt.rules.rack_aware import RackAwareFetchRule
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
    LaneRule(),
    RackAwareFetchRule(),
    FanOutRule(),
    BrokerSizingRule(),
    CkuHeadroomRule(),
)
RULE_NAMES = tuple(rule.name for rule in RULES)
# `rules:` settings that are not one rule's: patterns of topics no rule may change.
SHARED_SETTINGS = ("protected_topics",)


@dataclass
class RuleResults:
    recommendations: list[Recommendation] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def check_rule_settings(settings: Mapping[str, Any]) -> None:
    unknown = set(settings) - set(RULE_NAMES) - set(SHARED_SETTINGS)
    if unknown:
        raise ValueError(f"unknown rule(s) in settings: {sorted(unknown)}; rules: "
                         f"{', '.join(RULE_NAMES)}; shared: {', '.join(SHARED_SETTINGS)}")
    protection(settings)
    for rule in RULES:
        own = settings.get(rule.name, {})
        if not isinstance(own, Mapping):
            raise ValueError(f"rules.{rule.name} must be a mapping of settings")
        rule.settings({k: v for k, v in own.items() if k != "enabled"})


def protection(settings: Mapping[str, Any]) -> Protection:
    patterns = settings.get("protected_topics", [])
    if isinstance(patterns, str) or not isinstance(patterns, list | tuple):
        raise ValueError("rules.protected_topics must be a list of regular expressions")
    return Protection.from_settings(str(p) for p in patterns)


def run_rules(model: ClusterModel, history: History,
              settings: Mapping[str, Any] | None = None,
              rules: Sequence[BaseRule] = RULES) -> RuleResults:
    settings = settings or {}
    abandoned = settings.get("abandoned_group", {}).get("abandoned_after_days")
    context = RuleContext(model, history, protection(settings), abandoned)
    results = RuleResults()
    kind = model.catalog.kind
    for rule in rules:
        rule_settings = dict(settings.get(rule.name, {}))
        if not rule_settings.pop("enabled", rule.enabled_by_default):
            continue
        reason = rule.not_on.get(kind)
        if reason is not None:  # advice the offering gives no way to act on
            results.skipped.append(Skip(model.cluster, rule.name, model.cluster, reason))
            continue
        results.recommendations.extend(
            rule.evaluate(model, history, rule_settings, context, results.skipped))
    return results
