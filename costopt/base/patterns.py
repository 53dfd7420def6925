"""Regular expressions from users, matched in linear time.

A pattern in a request (`GET /v1/topics?pattern=`, a what-if `selector.pattern`) runs on the
server. Python's `re` backtracks: `^([a-z0-9.-]+)+!$` over a long topic name never returns,
and one such request held a worker until it was killed. RE2 guarantees time linear in the
input, at the price of a documented subset: no backreferences (`\\1`) and no lookaround
(`(?=...)`, `(?<!...)`). A pattern outside that subset is refused with a message naming it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2

from costopt.base.errors import InvalidInput

MAX_PATTERN_LENGTH = 512


class Matcher(Protocol):
    def search(self, text: str) -> object | None: ...


class PatternError(InvalidInput):
    """A pattern RE2 cannot take; the message says why."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error goes to the caller, not to stderr
    options.max_mem = 8 << 20  # bounded memory per compiled pattern
    return options


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Matcher:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"longer than {MAX_PATTERN_LENGTH} characters")
    try:
        result: Matcher = re2.compile(pattern, options=_options())
        return result
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
        raise PatternError(f"not a pattern RE2 accepts ({reason}); RE2 has no backreferences "
                           "or lookaround") from None


def checked_regex(value: str) -> str:
    """A configured regular expression (owner rules, billing's service filter), refused at
    load time rather than at first use. These come from the operator's config, not from
    requests, so Python's `re` (with backreferences, which owner rules use) is the dialect."""
    import re

    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regex: {exc}") from None
    return value
