"""The garbage-collector pause holds across overlapping pauses in threads (a collect parses
several answers at once) and leaves the collector as it found it."""

from __future__ import annotations

import gc
import threading
import weakref

from costopt.base.gc_pause import gc_paused


def _hold(opened: threading.Event, release: threading.Event) -> None:
    with gc_paused():
        opened.set()
        release.wait(10)


def test_the_collector_is_off_while_any_pause_is_open_and_on_after_the_last() -> None:
    assert gc.isenabled()
    events = [(threading.Event(), threading.Event()) for _ in range(2)]
    threads = [threading.Thread(target=_hold, args=pair) for pair in events]
    try:
        for thread, (opened, _) in zip(threads, events, strict=True):
            thread.start()
            assert opened.wait(10)
        assert not gc.isenabled()
        events[0][1].set()  # the first pause closes, the second is still open
        threads[0].join(10)
        assert not gc.isenabled()
        events[1][1].set()
        threads[1].join(10)
        assert gc.isenabled()
    finally:
        for _, release in events:
            release.set()
        gc.enable()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_what_a_pause_made_goes_to_the_oldest_generation_and_its_cycles_are_still_freed(
        ) -> None:
    """The youngest generations are left empty (no collection traverses the pause's result
    before the next full one), and a cycle made garbage during the pause is freed by it."""
    with gc_paused():
        kept = [_Node() for _ in range(10_000)]
        first, second = _Node(), _Node()
        first.other, second.other = second, first  # a cycle, garbage once dropped
        probe = weakref.ref(first)
        del first, second
    young = {id(o) for generation in (0, 1) for o in gc.get_objects(generation)}
    assert not any(id(node) in young for node in kept)
    assert all(gc.is_tracked(node) for node in kept[:10])
    assert probe() is not None  # not collected yet: no collection ran
    gc.collect()
    assert probe() is None
