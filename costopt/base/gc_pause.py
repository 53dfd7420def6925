"""Pausing Python's cyclic garbage collector around work that makes millions of small objects
and few cycles: an analysis, or parsing Prometheus's answers (tens of MB of JSON a fleet's
collect). The collections those allocations trigger free nothing and cost a sixth of an
analysis's CPU and over a third of a collect's.

Pauses may overlap across threads (a collect parses several answers at once): the collector
is off while any pause is open, and on again after the last one closes if it was on before the
first. A forked child starts with no pause open.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.resume = False  # whether the collector was on when the first pause opened


_PAUSES = _Pauses()


def _reset_in_child() -> None:
    global _PAUSES
    _PAUSES = _Pauses()  # a lock another thread held at the fork would never be released


os.register_at_fork(after_in_child=_reset_in_child)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (on again after the last overlapping
    pause, if it was on)."""
    pauses = _PAUSES
    with pauses.lock:
        if pauses.open == 0:
            pauses.resume = gc.isenabled()
            gc.disable()
        pauses.open += 1
    try:
        yield
    finally:
        with pauses.lock:
            pauses.open -= 1
            if pauses.open == 0 and pauses.resume:
                _to_oldest_generation()
                gc.enable()


def _to_oldest_generation() -> None:
    """Every tracked object moved to the oldest generation, without a collection.

    What a pause leaves is mostly its work's result (an analysis: hundreds of thousands of
    small objects) and all of it sits in the youngest generation: the first allocation after
    the pause would traverse it all (0.15 s after a wix analysis), then again as it is
    promoted, freeing nothing. `freeze` moves every tracked object to the permanent
    generation and `unfreeze` moves them back into the oldest, both by splicing lists, so
    only the next full collection looks at them, and it frees any cycles among them as
    usual. (It also unfreezes what anything else froze: costopt freezes nothing else.)"""
    gc.freeze()
    gc.unfreeze()
