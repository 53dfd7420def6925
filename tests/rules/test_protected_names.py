"""The one-search shortcut of `Protection` (every pattern joined into one expression) answers
exactly as searching pattern by pattern does, and stands aside where joining is unsafe."""

from __future__ import annotations

import pytest

from costopt.rules.protected import Protection, _any_of

NAMES = [
    "orders", "payments.v2", "a.DLQ", "orders-Retries", "x-changelog", "__consumer_offsets",
    "connect-configs", "billing.ledger.v1", "mm2-offset-syncs.east.internal",
    "schema-changes.inventory", "dbhistory.db1", "_schemas", "_schemasx", "errorsome",
    "app_errors", "BILLING.LEDGER.X", "heartbeats", "us.heartbeats", "ksql", "_confluent-x",
]


def one_by_one(protection: Protection, name: str) -> str | None:
    """What the pattern-by-pattern search says, the shortcut left out."""
    for family, holds, pattern in protection._compiled:  # type: ignore[attr-defined]
        if pattern.search(name):
            return f"protected ({family}): {holds}"
    return None


@pytest.mark.parametrize("user", [(), (r"^billing\.ledger\.",), (r"(?i)^billing\.ledger",)])
def test_the_joined_search_answers_as_each_pattern_does(user: tuple[str, ...]) -> None:
    protection = Protection(user)
    assert protection._any is not None  # type: ignore[attr-defined]
    answers = {name: protection.reason(name) for name in NAMES}
    assert answers == {name: one_by_one(protection, name) for name in NAMES}
    assert answers["orders"] is None and answers["a.DLQ"] is not None
    if user:
        assert answers["BILLING.LEDGER.X"] == (
            "protected (configured): matched rules.protected_topics"
            if user[0].startswith("(?i)") else None)


def test_patterns_that_cannot_be_joined_are_searched_one_by_one() -> None:
    # A backreference would point at another pattern's group once joined; a verbose-mode
    # comment would swallow the closing parenthesis.
    assert _any_of([r"^(a)\1$"]) is None
    assert _any_of([r"(?x) ^billing # the ledger"]) is None
    protection = Protection((r"^(ab)\1$",))
    assert protection._any is None  # type: ignore[attr-defined]
    assert protection.reason("abab") == "protected (configured): matched rules.protected_topics"
    assert protection.reason("orders") is None
