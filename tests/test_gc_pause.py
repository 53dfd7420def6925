"""The garbage-collector pause holds across overlapping pauses in threads (a collect parses
several answers at once) and leaves the collector as it found it."""

from __future__ import annotations

import gc
import threading

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
