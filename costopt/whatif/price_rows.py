"""Price rows of one cluster under changes: the one place a change is priced.

The what-if engine (`cluster_outcome`), the rules (`rules/candidate_pricing.py`) and the savings
plan (`plan.py`) all call `price_rows`. It takes the rows the changes touch, applies the changes
(`whatif/apply.py`, every kind), prices each side with the cost model's `topic_costs`, and
reads off three things:
- the bill: the cluster's topic sums moved by the rows' difference, made a bill by `bill_of`
  (capacity as paid for, after any resize; metered components as used);
- the saving: bill after − bill before (and, row by row, each row's metered difference,
  which is its own saving when the changes leave the basis alone);
- the capacity freed, row by row, at the basis before (`capacity_freed`): bytes and
  broker-equivalents, never money.
Capacity is not elastic, so a topic change moves the bill by its metered delta alone; only a
change that resizes the cluster moves what capacity costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from costopt.cost.allocation import (
    COMPONENTS,
    ClusterBasis,
    Columns,
    IntArray,
    bill_of,
    capacity_freed,
    take,
    to_micros,
    topic_costs,
)
from costopt.cost.cluster_model import ClusterModel
from costopt.snapshot.cluster_snapshot import Broker
from costopt.whatif.apply import CatalogResolver, apply_changes, apply_to_each_row
from costopt.whatif.changes import Change


@dataclass(frozen=True)
class PricedRows:
    """What changes do to some rows of one cluster, and so to its bill and capacity."""

    index: np.ndarray  # the rows, as positions in the cluster's columns
    before: Columns
    after: Columns
    brokers: tuple[Broker, ...]  # the cluster's, after the changes
    basis: ClusterBasis  # after the changes
    micros_before: dict[str, IntArray]  # per component and row, at the basis before
    micros_after: dict[str, IntArray]  # at the basis after
    topic_sums_micros: dict[str, int]  # per component, every topic of the cluster, after
    bill_micros: dict[str, int]  # the cluster's bill per component, after
    bill_delta_micros: int  # bill after − bill before
    row_delta_micros: IntArray  # per row: its metered difference
    disk_bytes_freed: np.ndarray  # per row (negative: needed)
    brokers_freed: np.ndarray  # per row, broker-equivalents at the price per broker before

    @property
    def savings_micros(self) -> int:
        return max(-self.bill_delta_micros, 0)


def price_rows(model: ClusterModel, index: np.ndarray, changes: Sequence[Change], *,
               columns: Mapping[str, np.ndarray] | None = None,
               brokers: tuple[Broker, ...] | None = None, basis: ClusterBasis | None = None,
               topic_sums_micros: Mapping[str, int] | None = None, each_row: bool = False,
               resolve_catalog: CatalogResolver | None = None) -> PricedRows:
    """The rows `index` of the cluster priced before and after `changes`.

    The cluster is the model as analysed unless `columns`, `brokers`, `basis` and
    `topic_sums_micros` say how it stands now (a plan's cluster as earlier steps changed it).
    With `each_row`, every row takes the (topic) changes whatever their selectors name: each
    row stands for a candidate making the same change to its own topic."""
    columns = model.columns if columns is None else columns
    brokers = model.snapshot.brokers if brokers is None else brokers
    basis_before = model.cost.basis if basis is None else basis
    sums = model.cost.topic_sums_micros if topic_sums_micros is None else topic_sums_micros
    before = take(columns, index)
    if each_row:
        after, brokers_after, basis_after = apply_to_each_row(model, before, changes), \
            brokers, basis_before
    else:
        after, brokers_after, basis_after = apply_changes(model, before, brokers, basis_before,
                                                          changes, resolve_catalog)
    # Each side priced once: the capacity freed (at the basis before) and the bill read the
    # same costs.
    costs_before = topic_costs(before, basis_before)
    costs_after_then = topic_costs(after, basis_before)
    costs_after = costs_after_then if basis_after is basis_before \
        else topic_costs(after, basis_after)
    disk, freed_brokers = capacity_freed(basis_before, before, after,
                                         (costs_before, costs_after_then))
    micros_before, rows_before = _micros(costs_before)
    micros_after, rows_after = _micros(costs_after)
    sums_after = {c: sums[c] - rows_before[c] + rows_after[c] for c in COMPONENTS}
    bill_after = bill_of(basis_after, sums_after)
    bill_before = bill_of(basis_before, sums)
    row_delta = np.zeros(len(index), dtype=np.int64)
    for component in basis_after.metered_components:
        row_delta += micros_after[component] - micros_before[component]
    return PricedRows(index, before, after, brokers_after, basis_after, micros_before,
                      micros_after, sums_after, bill_after,
                      sum(bill_after.values()) - sum(bill_before.values()), row_delta,
                      disk, freed_brokers)


def _micros(costs: Mapping[str, np.ndarray]) -> tuple[dict[str, IntArray], dict[str, int]]:
    """Costs in micro-units, per component and row, and their sums per component: one
    conversion of every component at once (a plan prices thousands of steps)."""
    matrix = to_micros(np.stack([costs[c] for c in COMPONENTS]))
    return dict(zip(COMPONENTS, matrix, strict=True)), dict(
        zip(COMPONENTS, matrix.sum(axis=1).tolist(), strict=True))


def one_topic(target: str, changes: Sequence[Change]) -> bool:
    """Changes that touch the topic `target` alone, by name (no pattern, owner or group, and
    nothing cluster-wide): what `price_each` prices a thousand at a time."""
    return bool(changes) and all(
        c.touches_topics and not c.touches_cluster and c.selector.topic == target
        and c.selector.pattern is None and c.selector.owner is None and c.selector.group is None
        for c in changes)


def price_each(model: ClusterModel, targets: Sequence[str],
               changes: Sequence[Sequence[Change]], **where: Any) -> list[tuple[PricedRows, int]]:
    """Each of many one-topic candidates (topic `targets[i]` under `changes[i]`, each
    `one_topic`), priced on its own: candidates making the same change are priced together by
    one `price_rows(each_row=True)`, one pass per kind of change rather than one per
    candidate. For each candidate, its group's pricing and its row there. `where`: how the
    cluster stands, as `price_rows` takes it."""
    groups: dict[str, list[int]] = {}
    for position, made in enumerate(changes):
        key = "|".join(c.model_dump_json(exclude={"selector"}) for c in made)
        groups.setdefault(key, []).append(position)
    out: list[tuple[PricedRows, int] | None] = [None] * len(targets)
    for positions in groups.values():
        rows = np.array([model.index[targets[p]] for p in positions], dtype=np.int64)
        priced = price_rows(model, rows, changes[positions[0]], each_row=True, **where)
        for row, position in enumerate(positions):
            out[position] = (priced, row)
    return [p for p in out if p is not None]
