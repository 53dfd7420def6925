"""`fork_map` works items in forked processes and this one, and gives the results in the items'
order; with weights, the heaviest items are taken first, so the last ones taken (which one
process may finish alone) are the lightest."""

from __future__ import annotations

import os
import time

import pytest

from costopt.base.parallel import cores, fork_map


def _started(item: int) -> tuple[int, int, int]:
    begun = time.monotonic_ns()
    time.sleep(0.15)
    return item, begun, os.getpid()


def test_results_come_in_the_items_order_from_more_than_one_process() -> None:
    items = list(range(8))
    results = fork_map(_started, items)
    assert [item for item, _, _ in results] == items
    if cores() >= 2:
        assert len({pid for _, _, pid in results}) >= 2


@pytest.mark.parametrize("parallel", [True, False])
def test_the_heaviest_items_are_taken_first(parallel: bool) -> None:
    items = list(range(8))
    weights = [3.0, 9.0, 1.0, 7.0, 5.0, 2.0, 8.0, 4.0]
    results = fork_map(_started, items, parallel=parallel, weights=weights)
    assert [item for item, _, _ in results] == items
    begun = {item: start for item, start, _ in results}
    # A process takes an item and starts it at once; items taken at once by two processes
    # start within moments of each other, in either order.
    moments = 50_000_000  # ns
    for heavier in items:
        for lighter in items:
            if weights[heavier] > weights[lighter]:
                assert begun[heavier] <= begun[lighter] + moments, (heavier, lighter)


def test_weights_must_match_the_items() -> None:
    with pytest.raises(ValueError, match="2 weights for 3 items"):
        fork_map(_started, [1, 2, 3], weights=[1.0, 2.0])
