"""Who owns a topic: an exact mapping first, then regex rules in order, then a default; who
owns a consumer group, by its own rules (the reader pays its share of a topic's cost); and who
owns an authenticated principal (a Confluent service account), by `principals`.

Teams usually put their name in the topic prefix (`payments.orders.v1`), so the default rule
takes the first dotted segment. Group names usually start with the service's team
(`payments-settlement`, `payments.settlement`), so the default group rule takes the segment
before the first dot or dash. A rule's owner may refer to regex groups (`\\1`).

The exact mapping is the mapping file's entries over the owners read from Strimzi `KafkaTopic`
resources (`strimzi.py`): explicit mapping, then Strimzi, then rules, then the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from costopt.base.patterns import checked_regex

UNOWNED = "unowned"


class OwnerRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pattern: str = Field(description="regex matched against the start of the topic name")
    owner: str = Field(description="team name; may use \\1 for regex groups")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return checked_regex(value)


DEFAULT_RULES = (
    OwnerRule(pattern=r"^__", owner="platform"),
    OwnerRule(pattern=r"^([A-Za-z0-9_-]+)\.", owner=r"\1"),
)
DEFAULT_GROUP_RULES = (
    OwnerRule(pattern=r"^_", owner="platform"),
    OwnerRule(pattern=r"^([A-Za-z0-9_]+)[.-]", owner=r"\1"),
)


class OwnerAttribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mapping: dict[str, str] = Field(default_factory=dict, description="exact topic -> owner")
    rules: tuple[OwnerRule, ...] = DEFAULT_RULES
    default_owner: str = UNOWNED
    group_rules: tuple[OwnerRule, ...] = DEFAULT_GROUP_RULES
    principals: dict[str, str] = Field(
        default_factory=dict, description="principal id or display name -> owner")

    @classmethod
    def from_mapping_file(cls, path: str | Path,
                          rules: tuple[OwnerRule, ...] = DEFAULT_RULES) -> OwnerAttribution:
        """A YAML or CSV (topic,owner) mapping file."""
        path = Path(path)
        text = path.read_text()
        if path.suffix == ".csv":
            rows = [line.split(",", 1) for line in text.splitlines()[1:] if line.strip()]
            mapping = {topic.strip(): owner.strip() for topic, owner in rows}
        else:
            loaded = yaml.safe_load(text) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: an owner mapping is topic: owner pairs")
            mapping = {str(key): str(value) for key, value in loaded.items()}
        return cls(mapping=mapping, rules=rules)

    def owner_of(self, topic: str) -> str:
        if topic in self.mapping:
            return self.mapping[topic]
        for rule in self.rules:
            match = re.match(rule.pattern, topic)
            if match:
                return _expanded(match, rule)
        return self.default_owner

    def owners_of(self, topics: Iterable[str]) -> list[str]:
        return [self.owner_of(topic) for topic in topics]

    def principal_owner_of(self, principal_id: str, display_name: str | None = None) -> str:
        """The team an authenticated principal (a service account) belongs to: the mapping by
        id, then by display name, then the group rules applied to the display name (services
        name their accounts as they name their groups: `payments-settlement`), else the id
        itself, so an unmapped account is visible by name rather than lumped as unowned."""
        for key in (principal_id, display_name):
            if key and key in self.principals:
                return self.principals[key]
        if display_name:
            for rule in self.group_rules:
                match = re.match(rule.pattern, display_name)
                if match:
                    return _expanded(match, rule)
        return principal_id

    def group_owner_of(self, group: str) -> str:
        """The team a consumer group belongs to: the first matching group rule, else the
        default owner."""
        for rule in self.group_rules:
            match = re.match(rule.pattern, group)
            if match:
                return match.expand(rule.owner)
        return self.default_owner


# An owner template expanded, by rule and the groups its pattern matched: the owner depends on
# nothing else. `Match.expand` parses the template on every call (Python 3.11), which was
# 7% of an analysis's CPU (under the profiler) for 50,000 topics owned by a few hundred
# prefixes.
_EXPANDED: dict[tuple[str, str, tuple[str | Any, ...]], str] = {}
_EXPANDED_MAX = 100_000


def _expanded(match: re.Match[str], rule: OwnerRule) -> str:
    key = (rule.pattern, rule.owner, match.groups())
    owner = _EXPANDED.get(key)
    if owner is None:
        if len(_EXPANDED) >= _EXPANDED_MAX:
            _EXPANDED.clear()
        owner = _EXPANDED[key] = match.expand(rule.owner)
    return owner
