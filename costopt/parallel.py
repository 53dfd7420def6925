"""Work over clusters in parallel processes, one per core.

Analysing a cluster and planning its savings are CPU-bound Python, so threads would take turns
on the GIL. The processes are forked: they start in a millisecond with everything imported and
inherit what the work reads (settings, models, a closure), so only the items go to them and
only the results come back, pickled. Where the platform does not fork, or there is one item
or one core, the work runs here.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")

# The functions the forked children run, by token: set before the pool forks, so a child
# finds its function (and whatever it closes over) in the memory it inherited.
_TASKS: dict[int, Callable[[Any], Any]] = {}
_TOKENS = itertools.count()


def _run(token: int, item: Any) -> Any:
    # One BLAS thread per child: a child per core already uses every core, and more BLAS
    # threads than cores only contend (the forecasts' least-squares fits run through BLAS).
    with threadpool_limits(limits=1):
        return _TASKS[token](item)


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_map(work: Callable[[T], R], items: Sequence[T], parallel: bool = True) -> list[R]:
    """`work` over `items`, in order, in forked processes, one per core (`parallel` False, or
    a platform without fork: here, one after the other). `work` must not rely on connections
    or threads of this process: a child has neither (open its own)."""
    workers = min(len(items), cores())
    if not parallel or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [work(item) for item in items]
    token = next(_TOKENS)
    _TASKS[token] = work
    try:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run, itertools.repeat(token), items))
    finally:
        del _TASKS[token]
