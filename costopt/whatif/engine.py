"""The what-if engine: a list of changes → baseline vs projected monthly cost and capacity.

One pass per cluster over its topic frame (vectorised), priced by the cost model's own
`project`, so a what-if with no change equals the baseline exactly and a recommendation's
saving is reproduced by the what-if of its change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from costopt.compression import CompressionEstimate
from costopt.cost.allocation import (
    COMPONENTS,
    IDLE,
    UNALLOCATED,
    AllocationSettings,
    ClusterCost,
    allocate,
    project,
    projected_bill_micros,
)
from costopt.cost.owners import OwnerAttribution
from costopt.money import Money
from costopt.pricing.catalog import PriceCatalog
from costopt.snapshot.model import Broker, ClusterSnapshot
from costopt.whatif.apply import apply_change, select
from costopt.whatif.changes import Change

CatalogResolver = Callable[[str], PriceCatalog]
MAX_GROWTH_EXPONENT = float(np.log(100.0))


@dataclass
class ClusterModel:
    """A cluster as analyzed: snapshot, baseline cost, measured compression, growth."""

    snapshot: ClusterSnapshot
    catalog: PriceCatalog
    cost: ClusterCost
    estimates: dict[str, CompressionEstimate] = field(default_factory=dict)
    growth_per_day: dict[str, float] = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        return self.cost.frame

    def growth_array(self) -> np.ndarray:
        """Growth rate per day of each topic, aligned with the frame (computed once)."""
        cached = self.__dict__.get("_growth")
        if cached is None:
            cached = self.frame["topic"].map(self.growth_per_day).fillna(0.0).to_numpy(
                dtype=float)
            self.__dict__["_growth"] = cached
        return np.asarray(cached)

    def owner_of(self, topic: str) -> str:
        owners = self.__dict__.get("_owners")
        if owners is None:
            owners = dict(zip(self.frame["topic"], self.frame["owner"], strict=True))
            self.__dict__["_owners"] = owners
        return str(owners.get(topic, "unowned"))


@dataclass(frozen=True)
class CapacityProjection:
    cluster: str
    disk_capacity_bytes: int
    disk_used_bytes_now: float
    disk_used_bytes_projected: float
    partition_replicas_per_broker_projected: float
    brokers: int


@dataclass(frozen=True)
class WhatIfResult:
    currency: str
    horizon_days: int
    baseline: Money
    projected: Money
    projected_at_horizon: Money
    baseline_by_component: dict[str, Money]
    projected_by_component: dict[str, Money]
    topics: pd.DataFrame  # changed topics: cluster, topic, owner, baseline/projected micros
    capacity: list[CapacityProjection]
    warnings: list[str]

    @property
    def delta(self) -> Money:
        return self.projected - self.baseline


def _resized_snapshot(snapshot: ClusterSnapshot, count: int | None,
                      instance_type: str | None) -> ClusterSnapshot:
    old = snapshot.brokers
    new_count = count or len(old)
    scale = len(old) / new_count
    template = old[0]
    brokers = tuple(
        Broker(broker_id=i + 1, rack=old[i % len(old)].rack,
               instance_type=instance_type or template.instance_type,
               disk_capacity_bytes=template.disk_capacity_bytes,
               disk_used_bytes=(int(template.disk_used_bytes * scale)
                                if template.disk_used_bytes is not None else None),
               cpu_utilisation=(min(1.0, template.cpu_utilisation * scale)
                                if template.cpu_utilisation is not None else None))
        for i in range(new_count))
    return replace(snapshot, brokers=brokers)


def project_cluster(model: ClusterModel, changes: Sequence[Change],
                    resolve_catalog: CatalogResolver | None = None,
                    owners: OwnerAttribution | None = None,
                    settings: AllocationSettings | None = None,
                    ) -> tuple[ClusterCost, np.ndarray, list[str]]:
    """The projected cost of one cluster, the mask of topics any change selected, warnings.

    A cluster no change touches is its own baseline: nothing is recomputed for it, which is
    what keeps a one-topic what-if on a 20,000-topic fleet in milliseconds.
    """
    frame = model.frame
    relevant = [c for c in changes if c.selector.cluster in (None, model.snapshot.cluster)]
    if not relevant:
        return model.cost, np.zeros(len(frame), dtype=bool), []
    touched = np.zeros(len(frame), dtype=bool)
    basis = model.cost.basis
    warnings: list[str] = []
    for change in changes:
        mask = select(frame, model.snapshot.cluster, change.selector)
        touched |= mask
        frame = apply_change(frame, mask, change, model.estimates)
        applies_here = (change.selector.cluster in (None, model.snapshot.cluster))
        if change.touches_brokers and applies_here:
            catalog = model.catalog
            if change.catalog is not None:
                if resolve_catalog is None:
                    raise ValueError("a catalog change needs a catalog resolver")
                catalog = resolve_catalog(change.catalog)
            snapshot = _resized_snapshot(model.snapshot, change.broker_count, change.broker_type)
            basis = allocate(snapshot, catalog, owners, settings).basis
            # The load stays what it is: share it at the resized cluster's price.
            basis = replace(basis, compute_allocatable=model.cost.basis.compute_allocatable
                            * _compute_price_ratio(model, snapshot, catalog))
            touched |= True
    if not touched.any() and basis is model.cost.basis:
        return model.cost, touched, warnings
    projected = project(model.cost, frame, basis)
    if basis is not model.cost.basis:
        projected = _with_compute_bill(projected, basis, model, changes, resolve_catalog,
                                       owners, settings, warnings)
    return projected, touched, warnings


def _compute_price_ratio(model: ClusterModel, snapshot: ClusterSnapshot,
                         catalog: PriceCatalog) -> float:
    old = sum(float(model.catalog.compute_price_per_hour(b.instance_type))
              for b in model.snapshot.brokers) / max(len(model.snapshot.brokers), 1)
    new = sum(float(catalog.compute_price_per_hour(b.instance_type))
              for b in snapshot.brokers) / max(len(snapshot.brokers), 1)
    return new / old if old else 1.0


def _with_compute_bill(projected: ClusterCost, basis: object, model: ClusterModel,
                       changes: Sequence[Change], resolve_catalog: CatalogResolver | None,
                       owners: OwnerAttribution | None, settings: AllocationSettings | None,
                       warnings: list[str]) -> ClusterCost:
    """After a broker change the compute bill is the new brokers' price: idle is the rest."""
    change = next(c for c in reversed(changes) if c.touches_brokers)
    catalog = resolve_catalog(change.catalog) if change.catalog and resolve_catalog else (
        model.catalog)
    snapshot = _resized_snapshot(model.snapshot, change.broker_count, change.broker_type)
    new_bill = allocate(snapshot, catalog, owners, settings).bill_micros["compute"]
    rows = projected.rows.copy()
    topics_compute = int(rows.loc[~rows["topic"].isin([IDLE, UNALLOCATED]),
                                  "compute_micros"].sum())
    idle_compute = new_bill - topics_compute
    if idle_compute < 0:
        warnings.append(
            f"{model.snapshot.cluster}: {len(snapshot.brokers)} brokers cost less than the "
            "compute the current load needs at today's utilisation: expect saturation")
    rows.loc[rows["topic"] == IDLE, "compute_micros"] = idle_compute
    rows.loc[rows["topic"] == UNALLOCATED, "compute_micros"] = 0
    micro_columns = [f"{c}_micros" for c in COMPONENTS]
    rows["monthly_cost_micros"] = rows[micro_columns].sum(axis=1)
    bill = {c: int(rows[f"{c}_micros"].sum()) for c in COMPONENTS}
    return replace(projected, rows=rows, bill_micros=bill)


def _capacity(model: ClusterModel, projected: ClusterCost, horizon_growth: np.ndarray
              ) -> CapacityProjection:
    brokers = model.snapshot.brokers
    capacity = sum(b.disk_capacity_bytes for b in brokers)
    frame = projected.frame
    stored_now = float((model.frame["log_size_bytes"] * model.frame["replication_factor"]).sum())
    stored_projected = float((frame["log_size_bytes"] * frame["replication_factor"]
                              * horizon_growth).sum())
    replicas = float((frame["partitions"] * frame["replication_factor"]).sum())
    return CapacityProjection(model.snapshot.cluster, capacity, stored_now, stored_projected,
                              replicas / max(len(brokers), 1), len(brokers))


def run_whatif(models: Mapping[str, ClusterModel], changes: Sequence[Change],
               horizon_days: int = 90, resolve_catalog: CatalogResolver | None = None,
               owners: OwnerAttribution | None = None,
               settings: AllocationSettings | None = None) -> WhatIfResult:
    if not 1 <= horizon_days <= 3650:
        raise ValueError("horizon_days must be between 1 and 3650")
    for change in changes:
        if change.selector.cluster is not None and change.selector.cluster not in models:
            raise KeyError(f"unknown cluster {change.selector.cluster!r}")
    currencies = {model.cost.currency for model in models.values()}
    if len(currencies) > 1:
        raise ValueError(f"clusters are priced in several currencies: {sorted(currencies)}")
    currency = currencies.pop() if currencies else "USD"
    base_total = proj_total = horizon_total = 0
    base_components = dict.fromkeys(COMPONENTS, 0)
    proj_components = dict.fromkeys(COMPONENTS, 0)
    topic_frames, capacity, warnings = [], [], []
    for model in models.values():
        projected, touched, cluster_warnings = project_cluster(
            model, changes, resolve_catalog, owners, settings)
        warnings += cluster_warnings
        base_total += sum(model.cost.bill_micros.values())
        proj_total += sum(projected.bill_micros.values())
        for component in COMPONENTS:
            base_components[component] += model.cost.bill_micros[component]
            proj_components[component] += projected.bill_micros[component]
        untouched = projected is model.cost
        cache = model.__dict__.setdefault("_horizon", {})
        if untouched and horizon_days in cache:
            horizon_micros, capacity_now, cached_warnings = cache[horizon_days]
            horizon_total += horizon_micros
            capacity.append(capacity_now)
            warnings += cached_warnings
            continue
        local_warnings: list[str] = []
        # Compounding a measured rate for years is not a forecast: cap growth at 100×.
        exponent = model.growth_array() * horizon_days
        if (exponent > MAX_GROWTH_EXPONENT).any():
            local_warnings.append(f"{model.snapshot.cluster}: growth of some topics capped at "
                                  f"100× over {horizon_days} days")
        growth = np.exp(np.minimum(exponent, MAX_GROWTH_EXPONENT))
        if np.allclose(growth, 1.0):
            at_horizon = sum(projected.bill_micros.values())
        else:
            grown = projected.frame.copy()
            for column in ("bytes_in_per_second", "bytes_out_per_second", "log_size_bytes",
                           "remote_log_size_bytes"):
                grown[column] = grown[column] * growth
            at_horizon = projected_bill_micros(projected.basis, grown)
        horizon_total += at_horizon
        capacity_now = _capacity(model, projected, growth)
        capacity.append(capacity_now)
        warnings += local_warnings
        if untouched:  # the baseline at a horizon never changes: keep it
            cache[horizon_days] = (at_horizon, capacity_now, local_warnings)
        if touched.any():
            before = model.cost.rows.iloc[:len(model.frame)][touched]
            after = projected.rows.iloc[:len(model.frame)][touched]
            topic_frames.append(pd.DataFrame({
                "cluster": before["cluster"].to_numpy(), "topic": before["topic"].to_numpy(),
                "owner": before["owner"].to_numpy(),
                "baseline_micros": before["monthly_cost_micros"].to_numpy(),
                "projected_micros": after["monthly_cost_micros"].to_numpy(),
            }))
    topics = (pd.concat(topic_frames, ignore_index=True) if topic_frames else pd.DataFrame(
        columns=["cluster", "topic", "owner", "baseline_micros", "projected_micros"]))
    topics["delta_micros"] = topics["projected_micros"] - topics["baseline_micros"]
    if changes and topics.empty:
        warnings.append("no topic matched any selector")
    return WhatIfResult(
        currency=currency, horizon_days=horizon_days,
        baseline=Money.from_micros(base_total, currency),
        projected=Money.from_micros(proj_total, currency),
        projected_at_horizon=Money.from_micros(horizon_total, currency),
        baseline_by_component={c: Money.from_micros(v, currency)
                               for c, v in base_components.items()},
        projected_by_component={c: Money.from_micros(v, currency)
                                for c, v in proj_components.items()},
        topics=topics.sort_values("delta_micros", ignore_index=True),
        capacity=capacity, warnings=warnings)
