"""Price rule candidates through the what-if engine, many at once.

Every candidate's saving is what `POST /v1/whatif` of its changes would say, to the micro-unit:
one-topic candidates that make the same change are priced together, on their rows only, by
the engine's own `price_rows` (so thousands of findings on a 50,000-topic cluster cost one
small vectorised pass per kind of change); any other candidate (a group, a cluster, a resize)
goes through the engine's `priced_now`, the first step of `cluster_outcome` (the rows its
changes touch, priced now and checked), without the horizon a rule does not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from costopt.cost.cluster_model import ClusterModel
from costopt.whatif.changes import Change
from costopt.whatif.engine import cluster_outcome, priced_now
from costopt.whatif.price_rows import one_topic, price_each


@dataclass(frozen=True)
class Candidate:
    """One finding a rule would recommend, before pricing: its target, the changes that
    reproduce it, and whatever the rule needs to describe it."""

    target: str
    changes: tuple[Change, ...]
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pricing:
    """What a candidate's changes do to the bill (now) and to capacity."""

    delta_micros: int  # bill after − bill before
    disk_bytes_freed: float
    brokers_freed: float

    @property
    def savings_micros(self) -> int:
        return max(-self.delta_micros, 0)

    @property
    def cost_micros(self) -> int:
        return max(self.delta_micros, 0)


def price(model: ClusterModel, candidates: Sequence[Candidate]) -> list[Pricing]:
    priced: list[Pricing | None] = [None] * len(candidates)
    batch = [position for position, candidate in enumerate(candidates)
             if one_topic(candidate.target, candidate.changes) and candidate.target in model.index]
    batched = set(batch)
    for position, candidate in enumerate(candidates):
        if position not in batched:
            priced[position] = _through_engine(model, candidate)
    each = price_each(model, [candidates[p].target for p in batch],
                      [candidates[p].changes for p in batch])
    for position, (rows, row) in zip(batch, each, strict=True):
        priced[position] = Pricing(int(rows.row_delta_micros[row]),
                                   float(rows.disk_bytes_freed[row]),
                                   float(rows.brokers_freed[row]))
    return [p for p in priced if p is not None]


def _through_engine(model: ClusterModel, candidate: Candidate) -> Pricing:
    relevant = [c for c in candidate.changes if c.applies_to(model.cluster)]
    if not relevant:  # the engine's unchanged cluster
        outcome = cluster_outcome(model, candidate.changes, horizon_days=1)
        delta = sum(outcome.components.values()) - model.cost.bill_total_micros
        return Pricing(int(delta), outcome.capacity.disk_bytes_freed,
                       outcome.capacity.brokers_freed)
    priced = priced_now(model, relevant)
    delta = sum(priced.bill_micros.values()) - model.cost.bill_total_micros
    return Pricing(int(delta), float(priced.disk_bytes_freed.sum()),
                   float(priced.brokers_freed.sum()))
