"""Topics that platforms depend on: never deleted, migrated, cut or reshaped by advice.

A topic may look quiet for weeks and still be read on every restart: Connect's config topic,
Schema Registry's `_schemas`, a Kafka Streams changelog. The built-in families below are the
components' default names (most are configurable: add your own names, e.g. a Connect worker's
`config.storage.topic`, with `rules.protected_topics`, a list of regular expressions).

Name protection applies to every topic-changing saving (deletion, partition migration,
retention, tiering, replication, compression). Deletion also looks at what a topic is, not
only what it is called: see `deletion_guard`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from costopt.snapshot.cluster_snapshot import Topic

LONG_RETENTION_MS = 365 * 86_400_000  # kept a year or more: a legal requirement, usually


@dataclass(frozen=True)
class Family:
    name: str
    patterns: tuple[str, ...]
    holds: str


FAMILIES: tuple[Family, ...] = (
    Family("kafka", (r"^__consumer_offsets$", r"^__transaction_state$",
                     r"^__cluster_metadata$", r"^__share_group_state$",
                     r"^__remote_log_metadata$"),
           "Kafka's internal state (group offsets, transactions, metadata)"),
    Family("kafka-connect", (r"^(.+[-_.])?connect[-_.]?(cluster[-_.])?(configs?|offsets?|"
                             r"status(es)?)$", r"^(.+[-_.])?(configs|offsets|status)"
                             r"[-_.]storage$"),
           "Kafka Connect's connector configs, source offsets and task status"),
    Family("schema-registry", (r"^_schemas$", r"^_schemas[-_.]", r"^kafkasql-journal$"),
           "every registered schema, read from the start whenever the registry starts"),
    Family("kafka-streams", (r"-changelog$", r"-repartition$"),
           "a Kafka Streams state store's changelog or a repartition stream"),
    Family("ksqldb", (r"^_confluent-ksql-",), "ksqlDB's command log and query internals"),
    Family("mirrormaker2", (r"^heartbeats$", r"\.heartbeats$", r"\.checkpoints\.internal$",
                            r"^mm2-offset-syncs\..*\.internal$",
                            r"^mm2-(configs|offsets|status)\..*\.internal$"),
           "MirrorMaker 2's replication bookkeeping"),
    Family("confluent", (r"^_confluent",), "Confluent Platform internals"),
    Family("strimzi", (r"^__strimzi", r"^strimzi-"), "the Strimzi operators' state"),
    Family("cruise-control", (r"^__CruiseControl", r"^__KafkaCruiseControl"),
           "Cruise Control's metric samples"),
    Family("debezium", (r"(^|[.-])schema-changes($|[.-])", r"^dbhistory\.",
                        r"^__debezium-heartbeat"),
           "a connector's database schema history: without it the connector cannot restart"),
    Family("dead-letter", (r"(?i)(^|[._-])(dlq|dlt|dead[._-]?letter|retry|retries|errors?)"
                           r"([._-]|$)",),
           "dead letters and retries: empty most of the time, needed when things fail"),
    Family("internal", (r"^__",), "an internal topic (double underscore) of some component"),
)


@dataclass(frozen=True)
class Protection:
    """The built-in families plus the user's patterns, compiled once."""

    user_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        compiled = [(family.name, family.holds, re.compile(pattern))
                    for family in FAMILIES for pattern in family.patterns]
        compiled += [("configured", "matched rules.protected_topics", re.compile(pattern))
                     for pattern in self.user_patterns]
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_any", _any_of([pattern.pattern for _, _, pattern in compiled]))
        # Each rule asks about the same topics: the answer per name, found once.
        object.__setattr__(self, "_reasons", {})

    @classmethod
    def from_settings(cls, patterns: Iterable[str]) -> Protection:
        checked = []
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"rules.protected_topics: {pattern!r} is not a valid regular "
                                 f"expression: {exc}") from None
            checked.append(pattern)
        return cls(tuple(checked))

    def reason(self, topic: str) -> str | None:
        """Why a topic is protected by its name, or None."""
        reasons: dict[str, str | None] = self._reasons  # type: ignore[attr-defined]
        if topic not in reasons:
            reasons[topic] = self._search(topic)
        return reasons[topic]

    def _search(self, topic: str) -> str | None:
        matches_any: re.Pattern[str] | None = self._any  # type: ignore[attr-defined]
        if matches_any is not None and matches_any.search(topic) is None:
            return None  # most topics: one search instead of one per pattern
        for family, holds, pattern in self._compiled:  # type: ignore[attr-defined]
            if pattern.search(topic):
                return f"protected ({family}): {holds}"
        return None


_GLOBAL_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def _any_of(patterns: list[str]) -> re.Pattern[str] | None:
    """One expression that matches where any of `patterns` does, or None where they cannot be
    joined safely (a backreference would point at another pattern's group once joined)."""
    if any(_BACKREFERENCE.search(pattern) for pattern in patterns):
        return None
    # A leading `(?i)` applies to the whole expression: scoped to its own pattern instead.
    parts = [_GLOBAL_FLAGS.sub(r"(?\1:", pattern) + ")" if _GLOBAL_FLAGS.match(pattern)
             else f"(?:{pattern})" for pattern in patterns]
    try:
        return re.compile("|".join(parts))
    except re.error:
        return None


def deletion_guard(topic: Topic, has_reader: bool) -> str | None:
    """Why a topic that moved no bytes is still not idle, or None: state is not traffic."""
    if topic.is_compacted:
        return "compacted: state that services re-read from the start, not idle on traffic"
    if has_reader:
        return "a consumer group still reads it (live members or recent commits)"
    if topic.retention_ms < 0 or topic.retention_ms >= LONG_RETENTION_MS:
        return "kept a year or more on purpose (an audit or ledger archive)"
    return None
