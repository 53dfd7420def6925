"""The what-if engine: a list of changes → baseline vs projected monthly cost and capacity.

One path for every change: per cluster, take the rows the changes touch (one row for a
one-topic what-if, every row for a cluster-wide one) and price them under the changes with
`price_rows` (`whatif/price_rows.py`, which the rules and the plan call too); the engine adds
what follows at the horizon, from each topic's measured growth. A one-topic what-if on a
50,000-topic fleet therefore costs one row's work, and a what-if with no change is the
baseline exactly.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from costopt.base.errors import InvalidInput, NotFound
from costopt.base.money import Money
from costopt.cost.allocation import (
    COMPONENTS,
    ClusterBasis,
    ClusterCost,
    Columns,
    bill_of,
    local_stored_bytes,
    project,
    topic_micros,
)
from costopt.cost.cluster_model import ClusterModel
from costopt.whatif.apply import CatalogResolver, apply_changes, rows_touched
from costopt.whatif.changes import Change
from costopt.whatif.price_rows import PricedRows, price_rows

MAX_GROWTH = 100.0
MAX_GROWTH_EXPONENT = float(np.log(MAX_GROWTH))
DISK_FILL_LIMIT = 0.85  # past this, Kafka operators add disk: the what-if warns
PARTITION_REPLICAS_PER_BROKER = 4000  # the usual per-broker guidance (and MSK's limit for
# large brokers): past it the what-if warns


@dataclass(frozen=True)
class CapacityProjection:
    """One cluster's capacity after the changes: now, and at the horizon with each topic's
    measured growth. `disk_fill_projected` and `compute_utilisation_projected` are against the
    capacity after any resize; freed capacity is against today's use (negative: needed)."""

    cluster: str
    brokers: int
    disk_capacity_bytes: int
    disk_used_bytes_now: float
    disk_used_bytes_projected: float
    disk_fill_projected: float
    compute_utilisation_projected: float
    partition_replicas_per_broker_projected: float
    disk_bytes_freed: float
    brokers_freed: float


@dataclass(frozen=True)
class TopicDeltas:
    """The changed topics' monthly cost before and after, as aligned arrays."""

    cluster: np.ndarray
    topic: np.ndarray
    owner: np.ndarray
    baseline_micros: np.ndarray
    projected_micros: np.ndarray

    @classmethod
    def empty(cls) -> TopicDeltas:
        nothing = np.array([], dtype=object)
        return cls(nothing, nothing, nothing, np.array([], dtype=np.int64),
                   np.array([], dtype=np.int64))

    @classmethod
    def concat(cls, parts: Sequence[TopicDeltas]) -> TopicDeltas:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("cluster", "topic", "owner", "baseline_micros",
                                  "projected_micros")))

    def __len__(self) -> int:
        return len(self.topic)

    @property
    def delta_micros(self) -> np.ndarray:
        result: np.ndarray = self.projected_micros - self.baseline_micros
        return result

    def largest_first(self, limit: int | None = None) -> np.ndarray:
        """Row order by absolute delta, largest first; ties keep the engine's order (cluster,
        then topic). With `limit`, only that many rows, found without sorting them all."""
        magnitude = -np.abs(self.delta_micros)
        if limit is not None and limit < len(magnitude):
            cut = np.partition(magnitude, limit - 1)[limit - 1]
            candidates = np.flatnonzero(magnitude <= cut)
            order = candidates[np.argsort(magnitude[candidates], kind="stable")]
            return order[:limit]
        return np.argsort(magnitude, kind="stable")

    def to_frame(self) -> pd.DataFrame:
        order = self.largest_first()
        return pd.DataFrame({"cluster": self.cluster[order], "topic": self.topic[order],
                             "owner": self.owner[order],
                             "baseline_micros": self.baseline_micros[order],
                             "projected_micros": self.projected_micros[order],
                             "delta_micros": self.delta_micros[order]})


@dataclass(frozen=True)
class WhatIfResult:
    currency: str
    horizon_days: int
    baseline: Money
    projected: Money
    projected_at_horizon: Money
    baseline_by_component: dict[str, Money]
    projected_by_component: dict[str, Money]
    projected_at_horizon_by_component: dict[str, Money]
    topics: TopicDeltas
    capacity: list[CapacityProjection]
    warnings: list[str]

    @property
    def delta(self) -> Money:
        return self.projected - self.baseline


@dataclass(frozen=True)
class _Outcome:
    components: dict[str, int]  # projected bill per component, now
    at_horizon: dict[str, int]  # and at the horizon
    capacity: CapacityProjection
    topics: TopicDeltas | None
    warnings: list[str]


@dataclass(frozen=True)
class _Horizon:
    """The unchanged cluster at one horizon: each topic's growth factor, topic sums per
    component, disk and compute used, and the whole outcome of a what-if that leaves the
    cluster alone (a one-topic what-if leaves all clusters but one alone)."""

    growth: np.ndarray
    topic_sums: dict[str, int]
    disk_bytes: float
    compute_micros: float
    warnings: list[str]
    unchanged: _Outcome


class _Baselines:
    """Per model, what every projection starts from, computed once per model and horizon."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self._horizons: dict[int, _Horizon] = {}
        self._lock = threading.Lock()

    @cached_property
    def disk_overhead_bytes(self) -> float:
        """Disk used beyond the topics' logs (indexes, unseen topics), held as it is."""
        measured = [b.disk_used_bytes for b in self.model.snapshot.brokers
                    if b.disk_used_bytes is not None]
        stored = float(local_stored_bytes(self.model.columns).sum())
        return max(float(sum(measured)) - stored, 0.0) if measured else 0.0

    @cached_property
    def disk_now_bytes(self) -> float:
        return float(local_stored_bytes(self.model.columns).sum()) + self.disk_overhead_bytes

    @cached_property
    def row_totals(self) -> np.ndarray:
        result: np.ndarray = self.model.cost.rows["monthly_cost_micros"].to_numpy()
        return result

    @cached_property
    def replicas(self) -> float:
        columns = self.model.columns
        return float((columns["partitions"] * columns["replication_factor"]).sum())

    def at(self, horizon_days: int) -> _Horizon:
        found = self._horizons.get(horizon_days)
        if found is None:
            with self._lock:
                found = self._horizons.get(horizon_days) or self._compute(horizon_days)
                self._horizons[horizon_days] = found
        return found

    def _compute(self, horizon_days: int) -> _Horizon:
        model = self.model
        growth = np.exp(np.minimum(model.growth * horizon_days, MAX_GROWTH_EXPONENT))
        grown = _grown(model.columns, growth)
        micros = topic_micros(grown, model.cost.basis)
        sums = {c: int(micros[c].sum()) for c in COMPONENTS}
        disk = float(local_stored_bytes(grown).sum()) + self.disk_overhead_bytes
        compute = float(micros["compute"].sum())
        capped = model.growth * horizon_days > MAX_GROWTH_EXPONENT
        warnings = []
        if capped.any():
            names = [str(n) for n in model.columns["topic"][capped]]
            warnings.append(
                f"{model.cluster}: growth of {len(names)} topic(s) capped at "
                f"{MAX_GROWTH:.0f}× over {horizon_days} days: {', '.join(names[:5])}"
                + (" …" if len(names) > 5 else ""))
        basis = model.cost.basis
        at_horizon = bill_of(basis, sums)
        capacity = _capacity(model, len(model.snapshot.brokers), basis, self.disk_now_bytes,
                             disk, compute, self.replicas, 0.0, 0.0)
        unchanged = _Outcome(dict(model.cost.bill_micros), at_horizon, capacity, None,
                             list(warnings) + _capacity_warnings(capacity, horizon_days,
                                                                 model.catalog.kind))
        return _Horizon(growth, sums, disk, compute, warnings, unchanged)


def _capacity(model: ClusterModel, brokers: int, basis: ClusterBasis, disk_now: float,
              disk_projected: float, compute_used_micros: float, replicas: float,
              disk_freed: float, brokers_freed: float) -> CapacityProjection:
    compute_bill = basis.capacity_bill_micros.get("compute", 0)
    return CapacityProjection(
        cluster=model.cluster, brokers=brokers, disk_capacity_bytes=basis.disk_capacity_bytes,
        disk_used_bytes_now=disk_now, disk_used_bytes_projected=disk_projected,
        disk_fill_projected=disk_projected / basis.disk_capacity_bytes
        if basis.disk_capacity_bytes else 0.0,
        compute_utilisation_projected=compute_used_micros / compute_bill if compute_bill
        else 0.0,
        partition_replicas_per_broker_projected=replicas / max(brokers, 1),
        disk_bytes_freed=disk_freed, brokers_freed=brokers_freed)


# Kept beside each (immutable) model for as long as it lives.
_BASELINES: weakref.WeakKeyDictionary[ClusterModel, _Baselines] = weakref.WeakKeyDictionary()
_BASELINES_LOCK = threading.Lock()


def _fresh_baselines_lock() -> None:
    """A forked analysis (`costopt.analyze.analysis.analyze_clusters`) prices through the engine: it
    gets a lock no other thread of the parent may have held at fork."""
    global _BASELINES_LOCK
    _BASELINES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_fresh_baselines_lock)


def _baselines(model: ClusterModel) -> _Baselines:
    cached = _BASELINES.get(model)
    if cached is None:
        with _BASELINES_LOCK:
            cached = _BASELINES.setdefault(model, _Baselines(model))
    return cached


def _grown(columns: Mapping[str, np.ndarray], growth: np.ndarray) -> Columns:
    grown = dict(columns)
    for name in ("bytes_in_per_second", "bytes_out_per_second", "log_size_bytes",
                 "remote_log_size_bytes"):
        grown[name] = np.asarray(columns[name], dtype=np.float64) * growth
    return grown


def _check_feasible(model: ClusterModel, after: Mapping[str, np.ndarray], brokers: int) -> None:
    """Kafka refuses a replica count above the broker count: so does the engine. (Topics the
    snapshot already shows with more replicas than brokers are a data error, flagged by the
    rules, not a reason to refuse every resize.)"""
    placeable = (after["partitions"] > 0) & (
        after["replication_factor"] <= len(model.snapshot.brokers))
    largest = int(after["replication_factor"][placeable].max()) if placeable.any() else 0
    if largest > brokers:
        raise InvalidInput(f"cluster {model.cluster!r}: {brokers} broker(s) cannot hold topics "
                         f"with replication factor {largest}")


def cluster_outcome(model: ClusterModel, changes: Sequence[Change], horizon_days: int,
                    resolve_catalog: CatalogResolver | None = None) -> _Outcome:
    """The projected bill and capacity of one cluster under `changes` (those that apply).

    A cluster no change touches is its cached baseline. Otherwise only the touched rows are
    priced, before and after, now and at the horizon, against the baseline's sums."""
    base = _baselines(model)
    horizon = base.at(horizon_days)
    relevant = [c for c in changes if c.applies_to(model.cluster)]
    if not relevant:
        unchanged = horizon.unchanged
        return replace(unchanged, warnings=list(unchanged.warnings))
    cluster_wide = any(c.touches_cluster for c in relevant)
    priced = priced_now(model, relevant, resolve_catalog)
    index, before, after = priced.index, priced.before, priced.after
    brokers, basis = priced.brokers, priced.basis
    growth = horizon.growth[index]
    micros_before_h = topic_micros(_grown(before, growth), model.cost.basis)
    micros_after_h = topic_micros(_grown(after, growth), basis)
    at_horizon = bill_of(basis, {c: horizon.topic_sums[c] - int(micros_before_h[c].sum())
                                 + int(micros_after_h[c].sum()) for c in COMPONENTS})
    stored_before, stored_after = local_stored_bytes(before), local_stored_bytes(after)
    replicas = (base.replicas - float((before["partitions"] * before["replication_factor"]).sum())
                + float((after["partitions"] * after["replication_factor"]).sum()))
    capacity = _capacity(
        model, len(brokers), basis, base.disk_now_bytes,
        horizon.disk_bytes - float((stored_before * growth).sum())
        + float((stored_after * growth).sum()),
        horizon.compute_micros - float(micros_before_h["compute"].sum())
        + float(micros_after_h["compute"].sum()),
        replicas, float(priced.disk_bytes_freed.sum()), float(priced.brokers_freed.sum()))
    warnings = list(horizon.warnings) + _capacity_warnings(capacity, horizon_days,
                                                           model.catalog.kind)
    micros_after = priced.micros_after
    own_after = np.sum([micros_after[c] for c in COMPONENTS], axis=0)
    baseline_rows = base.row_totals[index]
    changed = (own_after != baseline_rows) | (not cluster_wide)
    topics = TopicDeltas(np.full(int(changed.sum()), model.cluster, dtype=object),
                         before["topic"][changed], before["owner"][changed],
                         baseline_rows[changed], own_after[changed])
    return _Outcome(priced.bill_micros, at_horizon, capacity, topics, warnings)


def priced_now(model: ClusterModel, relevant: Sequence[Change],
               resolve_catalog: CatalogResolver | None = None) -> PricedRows:
    """The rows `relevant` changes (each applying to this cluster) touch, priced now, and
    checked as Kafka would check them: the bill and capacity freed of a what-if, without its
    horizon. `cluster_outcome` starts from it; the rules price their wider candidates with it
    alone (they read the bill now, and the horizon's repricing was most of their cost)."""
    priced = price_rows(model, rows_touched(model, relevant), relevant,
                        resolve_catalog=resolve_catalog)
    if any(c.touches_capacity for c in relevant) and model.catalog.kind not in NO_BROKER_WARNINGS:
        # the vendor places replicas, not brokers
        _check_feasible(model, priced.after, len(priced.brokers))
    return priced


# Offerings whose brokers and disks are the vendor's to size (Confluent Cloud bills eCKUs or
# CKUs): no broker or disk warnings there.
NO_BROKER_WARNINGS = ("confluent_cloud",)


def _capacity_warnings(capacity: CapacityProjection, horizon_days: int,
                       kind: str = "") -> list[str]:
    out: list[str] = []
    if kind in NO_BROKER_WARNINGS:
        return out
    if capacity.disk_fill_projected > DISK_FILL_LIMIT:
        out.append(f"{capacity.cluster}: disk at {horizon_days} days would be "
                   f"{capacity.disk_fill_projected:.0%} of {capacity.brokers} brokers' disks "
                   f"(limit {DISK_FILL_LIMIT:.0%}): add disk or brokers")
    if capacity.partition_replicas_per_broker_projected > PARTITION_REPLICAS_PER_BROKER:
        out.append(f"{capacity.cluster}: {capacity.partition_replicas_per_broker_projected:,.0f} "
                   f"partition replicas per broker, beyond the {PARTITION_REPLICAS_PER_BROKER:,}"
                   " Kafka operators plan for: expect slow recovery and controller load, or add "
                   "brokers")
    if capacity.compute_utilisation_projected > 1.0:
        out.append(f"{capacity.cluster}: the load at {horizon_days} days needs "
                   f"{capacity.compute_utilisation_projected:.0%} of {capacity.brokers} "
                   "brokers: expect saturation")
    return out


def project_cluster(model: ClusterModel, changes: Sequence[Change],
                    resolve_catalog: CatalogResolver | None = None) -> ClusterCost:
    """The whole cluster's cost rows after `changes`, every row recomputed: the reference the
    record path is checked against, and what a full cost table after a change shows."""
    relevant = [c for c in changes if c.applies_to(model.cluster)]
    after, _, basis = apply_changes(model, dict(model.columns), model.snapshot.brokers,
                                    model.cost.basis, relevant, resolve_catalog)
    return project(model.cost, after, basis)


@dataclass(frozen=True)
class _FleetBaseline:
    models: tuple[weakref.ReferenceType[ClusterModel], ...]  # what it was summed over
    base: dict[str, int]
    at_horizon: dict[str, int]
    capacity: tuple[CapacityProjection, ...]
    warnings: tuple[str, ...]


_FLEETS: dict[tuple[tuple[int, ...], int], _FleetBaseline] = {}
_FLEETS_LOCK = threading.Lock()


def _fleet_baseline(models: Mapping[str, ClusterModel], horizon_days: int) -> _FleetBaseline:
    """The unchanged fleet at a horizon, summed once: a one-topic what-if then adds one
    cluster's difference instead of visiting every cluster."""
    key = (tuple(id(m) for m in models.values()), horizon_days)
    found = _FLEETS.get(key)
    if found is not None and all(ref() is model for ref, model in zip(
            found.models, models.values(), strict=True)):
        return found
    base = dict.fromkeys(COMPONENTS, 0)
    at_horizon = dict.fromkeys(COMPONENTS, 0)
    capacity, warnings = [], []
    for model in models.values():
        unchanged = _baselines(model).at(horizon_days).unchanged
        for component in COMPONENTS:
            base[component] += unchanged.components[component]
            at_horizon[component] += unchanged.at_horizon[component]
        capacity.append(unchanged.capacity)
        warnings += unchanged.warnings
    found = _FleetBaseline(tuple(weakref.ref(m) for m in models.values()), base, at_horizon,
                           tuple(capacity), tuple(warnings))
    with _FLEETS_LOCK:
        if len(_FLEETS) > 64:  # models of analyses long replaced
            _FLEETS.clear()
        _FLEETS[key] = found
    return found


def run_whatif(models: Mapping[str, ClusterModel], changes: Sequence[Change],
               horizon_days: int = 90, resolve_catalog: CatalogResolver | None = None,
               ) -> WhatIfResult:
    if not 1 <= horizon_days <= 3650:
        raise InvalidInput("horizon_days must be between 1 and 3650")
    for change in changes:
        if change.selector.cluster is not None and change.selector.cluster not in models:
            raise NotFound(f"unknown cluster {change.selector.cluster!r}")
    currencies = {model.cost.currency for model in models.values()}
    if len(currencies) > 1:
        raise InvalidInput(f"clusters are priced in several currencies: {sorted(currencies)}")
    currency = currencies.pop() if currencies else "USD"
    fleet = _fleet_baseline(models, horizon_days)
    base, now, horizon = dict(fleet.base), dict(fleet.base), dict(fleet.at_horizon)
    capacity = list(fleet.capacity)
    warnings = list(fleet.warnings)
    topic_parts: list[TopicDeltas] = []
    for position, model in enumerate(models.values()):
        if not any(c.applies_to(model.cluster) for c in changes):
            continue  # the fleet baseline already holds it
        unchanged = _baselines(model).at(horizon_days).unchanged
        outcome = cluster_outcome(model, changes, horizon_days, resolve_catalog)
        for component in COMPONENTS:
            now[component] += outcome.components[component] - unchanged.components[component]
            horizon[component] += (outcome.at_horizon[component]
                                   - unchanged.at_horizon[component])
        capacity[position] = outcome.capacity
        warnings = [w for w in warnings if w not in unchanged.warnings] + outcome.warnings
        if outcome.topics is not None and len(outcome.topics):
            topic_parts.append(outcome.topics)
    topics = TopicDeltas.concat(topic_parts)
    if changes and not len(topics) and not any(c.touches_cluster for c in changes):
        warnings.append("no topic matched any selector")

    def money(micros: Mapping[str, int]) -> dict[str, Money]:
        return {c: Money.from_micros(v, currency) for c, v in micros.items()}

    return WhatIfResult(
        currency=currency, horizon_days=horizon_days,
        baseline=Money.from_micros(sum(base.values()), currency),
        projected=Money.from_micros(sum(now.values()), currency),
        projected_at_horizon=Money.from_micros(sum(horizon.values()), currency),
        baseline_by_component=money(base), projected_by_component=money(now),
        projected_at_horizon_by_component=money(horizon),
        topics=topics, capacity=capacity, warnings=warnings)
