"""The figures a `make bench` run records, and how they are timed: medians of runs, each
figure beside its baseline where it has one."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

RUNS = 3
FIGURES: list[dict[str, Any]] = []


def say(message: str) -> None:
    print(message, flush=True)


def median_seconds(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def figure(name: str, value: float, unit: str, *, baseline: float | None = None,
           baseline_name: str | None = None, target: str, met: bool, preset_name: str,
           note: str = "") -> None:
    ratio = (value / baseline) if baseline else None
    FIGURES.append({"name": name, "value": round(value, 4), "unit": unit,
                    "baseline": round(baseline, 4) if baseline is not None else None,
                    "baseline_name": baseline_name,
                    "ratio": round(ratio, 3) if ratio is not None else None,
                    "target": target, "met": bool(met), "preset": preset_name, "note": note})
    say(f"  {name}: {value:.3f} {unit}" + (f" (baseline {baseline:.3f}, ratio {ratio:.2f})"
                                            if baseline else "") + f" target {target}: "
        + ("met" if met else "MISSED"))
