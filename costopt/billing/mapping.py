"""Which cluster a bill line belongs to, and what it pays for.

Cluster, in order: an exact resource id from `billing.resources`; a tag whose key is one of
`billing.cluster_tag_keys` (AWS cost-allocation tags arrive as `user:team` or `user_team`: the
prefix is ignored); a resource id or name equal to a known cluster's name, or an MSK ARN whose
cluster segment is (`arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`).

What it pays for comes from the words a line uses (usage type, SKU meter, unit, description):
the format readers pass those in. Products costopt does not model (connectors, ksqlDB, Flink,
Schema Registry, support) are `other` before anything else, since their lines also speak of
hours and GB.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from costopt.billing.lines import OTHER

_MSK_ARN = re.compile(r"^arn:aws[\w-]*:kafka:[^:]*:[^:]*:cluster/([^/]+)/")
_NOT_KAFKA = re.compile(
    r"connect(or)?|ksql|flink|schema.?registry|governance|stream.?governance|support|audit|"
    r"cluster.?link|tableflow|\bcsu\b|\bcfu\b", re.IGNORECASE)
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("partitions", re.compile(r"partition", re.IGNORECASE)),
    ("storage_tiered", re.compile(
        r"tiered|object.?storage|remote.?storage|timedstorage|\bs3\b|dataretrieval",
        re.IGNORECASE)),
    ("storage_local", re.compile(
        r"storage|gb-?mo|gb-month|volume|\bebs\b|disk", re.IGNORECASE)),
    ("network_consumer", re.compile(r"network.?read|egress|data.?out\b|bytes.?out\b",
                                    re.IGNORECASE)),
    ("network_producer", re.compile(r"network.?write|ingress|data.?in\b|bytes.?in\b|"
                                    r"rest.?produce", re.IGNORECASE)),
    ("network", re.compile(r"transfer|network|interzone|inter-?az|cross-?az|-bytes\b|"
                           r"regional", re.IGNORECASE)),
    ("compute", re.compile(r"hour|hrs\b|instance|broker|compute|(?<![a-z])e?cku|boxusage|vcpu|"
                           r"\bkafka\.[a-z0-9]+\.[a-z0-9]+|express\.[a-z0-9]+\.[a-z0-9]+",
                           re.IGNORECASE)),
)


def target_of(*words: str) -> str:
    """The component (or component group) a usage line pays for: the first of `words` (most
    specific first: meter or usage type, unit, description, service) that names one decides;
    `other` where a word names a product costopt does not model, or none names anything."""
    for word in words:
        if not word:
            continue
        if _NOT_KAFKA.search(word):
            return OTHER
        for target, pattern in _RULES:
            if pattern.search(word):
                return target
    return OTHER


def _tag_key(key: str) -> str:
    key = key.strip()
    for prefix in ("user:", "user_", "resourceTags/user:", "resource_tags_user_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


@dataclass(frozen=True)
class ClusterMapper:
    """Finds the cluster of a line from its resource id, name and tags."""

    known: frozenset[str]
    resources: Mapping[str, str] = field(default_factory=dict)
    tag_keys: tuple[str, ...] = ("kafka_cluster", "kafka-cluster", "costopt_cluster")

    @classmethod
    def of(cls, known: Iterable[str], resources: Mapping[str, str] | None = None,
           tag_keys: Iterable[str] = ("kafka_cluster", "kafka-cluster", "costopt_cluster")
           ) -> ClusterMapper:
        return cls(frozenset(known), dict(resources or {}), tuple(tag_keys))

    def cluster_of(self, resource_id: str | None, resource_name: str | None = None,
                   tags: Mapping[str, object] | None = None) -> str | None:
        resource_id = (resource_id or "").strip()
        if resource_id and resource_id in self.resources:
            return self.resources[resource_id]
        if tags:
            normalized = {_tag_key(str(k)): v for k, v in tags.items()}
            for key in self.tag_keys:
                value = normalized.get(key)
                if value not in (None, "", True):
                    return str(value)
        for candidate in (resource_id, (resource_name or "").strip()):
            if candidate in self.known:
                return candidate
        arn = _MSK_ARN.match(resource_id)
        if arn and arn.group(1) in self.known:
            return arn.group(1)
        return None
