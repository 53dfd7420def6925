"""Work over clusters in parallel processes, one per core, this process among them.

Analysing a cluster and planning its savings are CPU-bound Python, so threads would take turns
on the GIL. The other processes are forked: they start in a millisecond with everything
imported and inherit what the work reads (settings, models, a closure, the items), so nothing
goes to them and only their results come back, pickled. This process works too, taking items
from the same counter as the children until none is left: its own results are never pickled
(pickling a cluster's analysis there and back cost about a quarter of the analysis), and an
uneven item (one large cluster) does not leave a core idle. Given each item's expected work
(`weights`), the largest are taken first, so the last items taken, which one process finishes
while the other may have nothing left, are the smallest (on the wix fleet, in store order the
second-largest cluster came last and left a core idle for most of its time). Where the
platform does not fork, or there is one item or one core, the work runs here.

The garbage collector is paused while items are worked: an analysis makes millions of small
objects and few cycles, and the collections those allocations trigger cost a sixth of its
CPU for nothing they free.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Task(Generic[T, R]):
    work: Callable[[T], R]
    items: Sequence[T]
    next_item: Any  # a multiprocessing.Value: the position in `order` no process took yet
    order: Sequence[int]  # the items' indexes in the order processes take them


# The tasks the forked children run, by token: set before the pool forks, so a child finds its
# function, items and counter (and whatever they close over) in the memory it inherited.
_TASKS: dict[int, _Task[Any, Any]] = {}
_TOKENS = itertools.count()


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (on again after, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _take(task: _Task[Any, Any]) -> int | None:
    """The index of the next item no process took, taken; None when none is left."""
    with task.next_item.get_lock():
        position: int = task.next_item.value
        task.next_item.value += 1
    return task.order[position] if position < len(task.order) else None


def _drain(token: int) -> list[tuple[int, Any]]:
    """Work items, each taken from the shared counter, until none is left; (index, result)s."""
    task = _TASKS[token]
    done: list[tuple[int, Any]] = []
    with gc_paused():
        while (index := _take(task)) is not None:
            done.append((index, task.work(task.items[index])))
    return done


def _one(token: int) -> tuple[int, Any] | None:
    """A child's turn: the next item no process took, worked, or None. One a turn, so each
    result comes back (and is unpickled here) while this process still works. One BLAS
    thread: a process per core already uses every core, and more BLAS threads than cores
    only contend (the forecasts' least-squares fits run through BLAS)."""
    task = _TASKS[token]
    with threadpool_limits(limits=1), gc_paused():
        index = _take(task)
        return None if index is None else (index, task.work(task.items[index]))


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_map(work: Callable[[T], R], items: Sequence[T], parallel: bool = True,
             weights: Sequence[float] | None = None) -> list[R]:
    """`work` over `items`, results in the items' order, here and in forked processes, one per
    core (`parallel` False, or a platform without fork: here, one after the other); `weights`:
    each item's expected work, heaviest taken first. `work` must not rely on connections or
    threads of this process: a child has neither (open its own)."""
    if weights is not None and len(weights) != len(items):
        raise ValueError(f"{len(weights)} weights for {len(items)} items")
    order = list(range(len(items))) if weights is None else \
        sorted(range(len(items)), key=lambda index: -weights[index])
    workers = min(len(items), cores())
    if not parallel or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        with gc_paused():
            here = {index: work(items[index]) for index in order}
        return [here[index] for index in range(len(items))]
    context = multiprocessing.get_context("fork")
    token = next(_TOKENS)
    _TASKS[token] = _Task(work, items, context.Value("q", 0), order)
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
            turns = [pool.submit(_one, token) for _ in items]
            with threadpool_limits(limits=1):
                done = _drain(token)
            with gc_paused():  # unpickling the children's results makes as many objects
                done += [result for turn in turns if (result := turn.result()) is not None]
    finally:
        del _TASKS[token]
    results = dict(done)
    return [results[index] for index in range(len(items))]
