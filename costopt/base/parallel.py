"""Work over clusters in parallel processes, one per core, this process among them.

Analysing a cluster and planning its savings are CPU-bound Python, so threads would take turns
on the GIL. The other processes are forked: they start in a millisecond with everything
imported and inherit what the work reads (settings, models, a closure, the items), so nothing
goes to them and only their results come back, pickled. This process works too, taking items
from the same counter as the children until none is left: its own results are never pickled
(pickling a cluster's analysis there and back cost about a quarter of the analysis); a child's
come back in files, loaded here between this process's own items; and an
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

import itertools
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from threadpoolctl import threadpool_limits

from costopt.base.gc_pause import gc_paused

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


def _take(task: _Task[Any, Any]) -> int | None:
    """The index of the next item no process took, taken; None when none is left."""
    with task.next_item.get_lock():
        position: int = task.next_item.value
        task.next_item.value += 1
    return task.order[position] if position < len(task.order) else None


def _drain(token: int, turns: list[Future[tuple[int, str] | None]]) -> list[tuple[int, Any]]:
    """Work items, each taken from the shared counter, until none is left, and load the
    children's results as their turns end, between items (so loading them is shared out by
    the counter like the work); (index, result)s."""
    task = _TASKS[token]
    done: list[tuple[int, Any]] = []
    pending = list(turns)
    with gc_paused():
        while (index := _take(task)) is not None:
            done.append((index, task.work(task.items[index])))
            # Each turn asked once: a turn ending between two askings would be in neither list.
            ended: list[Future[tuple[int, str] | None]] = []
            waiting: list[Future[tuple[int, str] | None]] = []
            for turn in pending:
                (ended if turn.done() else waiting).append(turn)
            pending = waiting
            done += _loaded(ended)
        done += _loaded(pending)
    return done


def _loaded(turns: list[Future[tuple[int, str] | None]]) -> list[tuple[int, Any]]:
    """The results the children left in files for these turns (waiting for each to end)."""
    found = []
    for turn in turns:
        ended = turn.result()
        if ended is not None:
            index, path = ended
            with open(path, "rb") as file:
                found.append((index, pickle.load(file)))
            os.unlink(path)
    return found


def _one(token: int, folder: str) -> tuple[int, str] | None:
    """A child's turn: the next item no process took, worked, and its result pickled into a
    file in `folder`; (index, path), or None. The result goes by file, not back through the
    pool's pipe: a cluster's analysis is tens of megabytes, and the pipe takes it in 64 KiB
    pieces, each waiting for the parent's reader thread to get the GIL from the parent's own
    work (a quarter of the child's time went on waiting). One BLAS thread: a process per core
    already uses every core, and more BLAS threads than cores only contend (the forecasts'
    least-squares fits run through BLAS)."""
    task = _TASKS[token]
    with threadpool_limits(limits=1), gc_paused():
        index = _take(task)
        if index is None:
            return None
        result = task.work(task.items[index])
        path = os.path.join(folder, f"{index}.pickle")
        with open(path, "wb") as file:
            pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
        return index, path


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
        with tempfile.TemporaryDirectory(prefix="costopt-fork-") as folder, \
                ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
            turns = [pool.submit(_one, token, folder) for _ in items]
            with threadpool_limits(limits=1):
                done = _drain(token, turns)
    finally:
        del _TASKS[token]
    results = dict(done)
    return [results[index] for index in range(len(items))]
