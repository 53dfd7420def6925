"""Human units for figures people read: `90 d`, not `7776000000 ms`; `1.5 TiB`, not
`1649267441664 bytes`. Machines keep the raw value beside it."""

from __future__ import annotations

import math

_DURATIONS = ((86_400.0, "d"), (3_600.0, "h"), (60.0, "min"), (1.0, "s"))
_SIZES = ((1024.0**5, "PiB"), (1024.0**4, "TiB"), (1024.0**3, "GiB"), (1024.0**2, "MiB"),
          (1024.0, "KiB"))


def _number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2g}"


def duration(seconds: float) -> str:
    """`90 d`, `36 h`, `6 min`, `forever` (negative: Kafka's -1)."""
    if seconds < 0 or math.isinf(seconds):
        return "forever"
    for size, unit in _DURATIONS:
        if seconds >= size:
            return f"{_number(seconds / size)} {unit}"
    return f"{_number(seconds)} s"


def size(count_bytes: float) -> str:
    for unit_size, unit in _SIZES:
        if abs(count_bytes) >= unit_size:
            return f"{_number(count_bytes / unit_size)} {unit}"
    return f"{_number(count_bytes)} B"


def rate(bytes_per_second: float) -> str:
    return f"{size(bytes_per_second)}/s"


def human(value: float | int | str, unit: str) -> str:
    """A value in the unit it was measured in, as a person reads it."""
    if isinstance(value, str):
        return value
    if unit == "ms":
        return "forever" if value < 0 else duration(value / 1000)
    if unit == "seconds":
        return duration(float(value))
    if unit == "days":
        return duration(float(value) * 86_400)
    if unit == "bytes":
        return size(float(value))
    if unit == "bytes/s":
        return rate(float(value))
    if unit == "ratio":
        return f"{float(value):.0%}"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value} {unit}"
