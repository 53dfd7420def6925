"""Protection by name: the first family (in order) whose pattern a name matches, whatever
shortcut finds that none does. Configured patterns with their own flags, back-references
and named groups are checked as written."""

from __future__ import annotations

import pytest

from costopt.rules.protected import Protection

PATTERNS = (r"^(ab)\1$", r"(?i)^LEDGER\.", r"^(?P<team>audit)\.(?P=team)$", r"-archive$")
CONFIGURED = "protected (configured): matched rules.protected_topics"


@pytest.mark.parametrize(("topic", "reason"), [
    ("abab", CONFIGURED),
    ("abac", None),
    ("ledger.payments", CONFIGURED),
    ("Ledger.payments", CONFIGURED),
    ("audit.audit", CONFIGURED),
    ("audit.other", None),
    ("orders-archive", CONFIGURED),
    ("orders.v1", None),
    ("__consumer_offsets", "protected (kafka): Kafka's internal state (group offsets, "
                           "transactions, metadata)"),
    ("payments.DLQ", "dead-letter"),  # (?i) built in: any reason text of that family
])
def test_reason_is_the_first_family_matched(topic: str, reason: str | None) -> None:
    protection = Protection.from_settings(PATTERNS)
    found = protection.reason(topic)
    if reason == "dead-letter":
        assert found is not None and found.startswith("protected (dead-letter)")
    else:
        assert found == reason


def test_built_in_families_before_configured_ones() -> None:
    protection = Protection.from_settings([r"connect"])
    assert protection.reason("connect-offsets") == (
        "protected (kafka-connect): Kafka Connect's connector configs, source offsets and "
        "task status")
    assert protection.reason("connector-x") == CONFIGURED
