"""Quick pickling for frozen, slotted dataclasses.

The analysis cache and the processes that analyze clusters in parallel pickle every
recommendation, its evidence and money, and every topic of a snapshot: tens of thousands of
small frozen dataclasses per cluster. The `__setstate__` dataclasses give slotted classes looks
up the class's fields for every object, which was most of the time to load a cached analysis;
rebuilding each object through its constructor is several times faster, and the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _fields_of(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of the class's field values, in order, as a tuple (one C call per object)."""
    getter = _GETTERS.get(cls)
    if getter is None:
        names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
        many = attrgetter(*names)
        getter = many if len(names) > 1 else (lambda obj: (many(obj),))
        _GETTERS[cls] = getter
    return getter


class SlotsPickle:
    """Base of a `@dataclass(frozen=True, slots=True)` whose fields are all `__init__`
    arguments: pickled as its class and field values, in order."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        cls = type(self)
        return cls, _fields_of(cls)(self)
