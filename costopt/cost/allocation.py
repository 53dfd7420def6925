"""Allocate a cluster's monthly bill to its topics, opencost-style, and project it after change.

The bill is computed from what is paid for (brokers, provisioned disks, metered traffic); the
topic rows from what each topic uses. Two explicit rows make the parts add up to the bill:
`__idle__` (capacity paid for and unused) and `__unallocated__` (used, but not by any topic we
know, e.g. disk used beyond the topics' logs). All sums are of integer micro-units, so
topic rows + idle + unallocated == bill exactly, per component.

Steps, per component:
1. the bill, from the catalog and the brokers (or, for metered components, from usage);
2. each topic's share, from `topic_costs` (which calls the formulas in `formulas.py`);
3. idle, where capacity is provisioned and not used;
4. unallocated = bill - topics - idle (the residual; it also absorbs sub-micro rounding).

Projection (what-if, recommendation savings): topics are priced by the same `topic_costs`
against the baseline's fixed `ClusterBasis`; provisioned capacity is assumed to follow usage at
today's headroom, so idle and unallocated scale with the usage they relate to. A change's
saving is therefore the bill before minus the bill after, from one formula.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from costopt.cost import formulas
from costopt.cost.owners import OwnerAttribution
from costopt.money import MICROS_PER_UNIT, Money, decimal_to_micros
from costopt.pricing.catalog import PriceCatalog
from costopt.snapshot.model import ClusterSnapshot

IDLE = "__idle__"
UNALLOCATED = "__unallocated__"
COMPONENTS = (
    "storage_local",
    "storage_tiered",
    "network_replication",
    "network_producer",
    "network_consumer",
    "compute",
    "partitions",
)
MICRO_COLUMNS = [f"{component}_micros" for component in COMPONENTS]
# The per-topic usage columns the cost model reads (see `topic_frame`).
USAGE_COLUMNS = ("partitions", "replication_factor", "bytes_in_per_second",
                 "bytes_out_per_second", "log_size_bytes", "remote_log_size_bytes")


class AllocationSettings(BaseModel):
    """How shared costs are split. Compute is shared by a weighted mix of each topic's share of
    throughput (bytes in + out) and of partition replicas; the weights must sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    compute_weight_throughput: float = Field(0.5, ge=0, le=1)
    compute_weight_partitions: float = Field(0.5, ge=0, le=1)
    cross_zone_client_share: float | None = Field(
        None, ge=0, le=1, description="share of client bytes crossing zones; default (Z-1)/Z")

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> AllocationSettings:
        if abs(self.compute_weight_throughput + self.compute_weight_partitions - 1) > 1e-9:
            raise ValueError("compute_weight_throughput + compute_weight_partitions must be 1")
        return self


def topic_frame(snapshot: ClusterSnapshot, owners: OwnerAttribution | None = None
                ) -> pd.DataFrame:
    """The snapshot's topics as columns: the cost model's (and the what-if engine's) input."""
    owners = owners or OwnerAttribution()
    topics = snapshot.topics
    names = [t.name for t in topics]
    return pd.DataFrame({
        "topic": names,
        "owner": owners.owners_of(names),
        "partitions": np.array([t.partitions for t in topics], dtype=np.float64),
        "replication_factor": np.array([t.replication_factor for t in topics], dtype=np.float64),
        "bytes_in_per_second": np.array([t.bytes_in_per_second for t in topics], dtype=np.float64),
        "bytes_out_per_second": np.array([t.bytes_out_per_second for t in topics],
                                         dtype=np.float64),
        "log_size_bytes": np.array([t.log_size_bytes for t in topics], dtype=np.float64),
        "remote_log_size_bytes": np.array([t.remote_log_size_bytes for t in topics],
                                          dtype=np.float64),
        "retention_ms": np.array([t.retention_ms for t in topics], dtype=np.int64),
        "retention_bytes": np.array([t.retention_bytes for t in topics], dtype=np.int64),
        "local_retention_ms": np.array([t.local_retention_ms for t in topics], dtype=np.int64),
        "cleanup_policy": [t.cleanup_policy for t in topics],
        "compression_type": [t.compression_type for t in topics],
        "remote_storage_enable": np.array([t.remote_storage_enable for t in topics], dtype=bool),
    })


@dataclass(frozen=True)
class ClusterBasis:
    """What stays fixed when topics change: prices, zones, and the baseline's usage totals that
    shared costs (compute, idle capacity) are divided by."""

    cluster: str
    catalog: PriceCatalog
    zones: int
    client_cross_zone_share: float
    consumer_cross_zone_share: float
    weight_throughput: float
    weight_partitions: float
    compute_allocatable: float  # money per month shared among topics
    throughput_total: float  # bytes/s in + out, baseline
    partition_replicas_total: float
    partitions_total: float
    stored_bytes_total: float
    disk_write_total: float  # bytes in × RF, baseline: shares the provisioned-throughput fee
    throughput_fee: float
    partition_billable_share: float
    idle_micros: dict[str, int]
    unallocated_micros: dict[str, int]

    def storage_ratio(self, stored_bytes_total: float) -> float:
        return stored_bytes_total / self.stored_bytes_total if self.stored_bytes_total else 1.0

    def compute_load_ratio(self, throughput_total: float, partition_replicas_total: float
                           ) -> float:
        thr = throughput_total / self.throughput_total if self.throughput_total else 0.0
        par = (partition_replicas_total / self.partition_replicas_total
               if self.partition_replicas_total else 0.0)
        return self.weight_throughput * thr + self.weight_partitions * par


def topic_costs(frame: pd.DataFrame, basis: ClusterBasis) -> dict[str, np.ndarray]:
    """Monthly cost of each topic per component (floats, money units), from the formulas."""
    catalog = basis.catalog
    gb = catalog.gb_bytes
    rf = frame["replication_factor"].to_numpy(dtype=np.float64)
    bytes_in = frame["bytes_in_per_second"].to_numpy(dtype=np.float64)
    bytes_out = frame["bytes_out_per_second"].to_numpy(dtype=np.float64)
    partitions = frame["partitions"].to_numpy(dtype=np.float64)
    stored = formulas.stored_bytes(frame["log_size_bytes"].to_numpy(dtype=np.float64), rf,
                                   catalog.storage_counts_replicas)
    costs: dict[str, np.ndarray] = {}
    costs["storage_local"] = formulas.storage_cost_per_month(
        stored, float(catalog.block_storage_per_gb_month), gb)
    if basis.throughput_fee > 0 and basis.disk_write_total > 0:
        costs["storage_local"] = costs["storage_local"] + (
            bytes_in * rf / basis.disk_write_total * basis.throughput_fee)
    costs["storage_tiered"] = formulas.storage_cost_per_month(
        frame["remote_log_size_bytes"].to_numpy(dtype=np.float64),
        float(catalog.object_storage_per_gb_month), gb)
    cross_zone = float(catalog.cross_zone_per_gb)
    if catalog.replication_traffic_billed:
        crossing = (formulas.replication_bytes_per_second(bytes_in, rf)
                    * formulas.replication_cross_zone_share(basis.zones, rf))
        costs["network_replication"] = formulas.transfer_cost_per_month(crossing, cross_zone, gb)
    else:
        costs["network_replication"] = np.zeros(len(frame))
    costs["network_producer"] = formulas.transfer_cost_per_month(
        bytes_in, float(catalog.ingress_per_gb) + basis.client_cross_zone_share * cross_zone, gb)
    costs["network_consumer"] = formulas.transfer_cost_per_month(
        bytes_out, float(catalog.egress_per_gb) + basis.consumer_cross_zone_share * cross_zone,
        gb)
    throughput_share = ((bytes_in + bytes_out) / basis.throughput_total
                        if basis.throughput_total else np.zeros(len(frame)))
    replica_share = (partitions * rf / basis.partition_replicas_total
                     if basis.partition_replicas_total else np.zeros(len(frame)))
    costs["compute"] = basis.compute_allocatable * (
        basis.weight_throughput * throughput_share + basis.weight_partitions * replica_share)
    costs["partitions"] = formulas.partition_cost_per_month(
        partitions, float(catalog.partition_per_hour)) * basis.partition_billable_share
    return costs


def _to_micros(amounts: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amounts, dtype=np.float64) * MICROS_PER_UNIT).astype(np.int64)


def _compute_utilisation(snapshot: ClusterSnapshot) -> float:
    """How much of the brokers is in use: the most used of CPU and disk, averaged over brokers
    (a broker is sized by its binding resource). Unknown → 1, i.e. no compute is called idle."""
    per_broker = []
    for broker in snapshot.brokers:
        known = []
        if broker.cpu_utilisation is not None:
            known.append(broker.cpu_utilisation)
        if broker.disk_used_bytes is not None and broker.disk_capacity_bytes > 0:
            known.append(broker.disk_used_bytes / broker.disk_capacity_bytes)
        if known:
            per_broker.append(min(1.0, max(known)))
    return float(np.mean(per_broker)) if per_broker else 1.0


@dataclass(frozen=True)
class ClusterCost:
    """One cluster's monthly cost: a row per topic plus `__idle__` and `__unallocated__`.

    `rows` has columns cluster, topic, owner, `<component>_micros` for each component and
    `monthly_cost_micros`; `bill_micros` is the bill per component. `basis` and `frame` are
    what projections of this cluster start from.
    """

    cluster: str
    currency: str
    catalog: str
    rows: pd.DataFrame
    bill_micros: dict[str, int]
    basis: ClusterBasis
    frame: pd.DataFrame

    @property
    def bill(self) -> Money:
        return Money.from_micros(sum(self.bill_micros.values()), self.currency)

    def topic_rows(self) -> pd.DataFrame:
        return self.rows[~self.rows["topic"].isin([IDLE, UNALLOCATED])]

    def cost_of(self, topic: str) -> dict[str, Money]:
        matches = self.rows[self.rows["topic"] == topic]
        if matches.empty:
            raise KeyError(f"unknown topic {topic!r} in cluster {self.cluster!r}")
        row = matches.iloc[0]
        costs = {c: Money.from_micros(int(row[f"{c}_micros"]), self.currency) for c in COMPONENTS}
        costs["total"] = Money.from_micros(int(row["monthly_cost_micros"]), self.currency)
        return costs


def _basis(snapshot: ClusterSnapshot, catalog: PriceCatalog, settings: AllocationSettings,
           frame: pd.DataFrame) -> tuple[ClusterBasis, dict[str, int]]:
    """The basis and the bill per component (micros) of a snapshot; idle filled, unallocated
    left for `_assemble` to make the residual."""
    gb = catalog.gb_bytes
    rf = frame["replication_factor"].to_numpy()
    bytes_in = frame["bytes_in_per_second"].to_numpy()
    stored_total = float(formulas.stored_bytes(frame["log_size_bytes"].to_numpy(), rf,
                                               catalog.storage_counts_replicas).sum())
    bill: dict[str, int] = {}
    idle: dict[str, int] = dict.fromkeys(COMPONENTS, 0)
    extra_mibps = sum(
        (max(Decimal(0), Decimal(str(b.provisioned_throughput_mibps or 0))
             - catalog.included_throughput_mibps) for b in snapshot.brokers), Decimal(0))
    throughput_fee = extra_mibps * catalog.provisioned_throughput_per_mibps_month
    if catalog.storage_billing == "provisioned":
        capacity_bytes = sum(b.disk_capacity_bytes for b in snapshot.brokers)
        bill["storage_local"] = decimal_to_micros(
            Decimal(capacity_bytes) / gb * catalog.block_storage_per_gb_month + throughput_fee)
        measured = [b.disk_used_bytes for b in snapshot.brokers if b.disk_used_bytes is not None]
        used_bytes = max(float(sum(measured)) if measured else 0.0, stored_total)
        idle["storage_local"] = int(_to_micros(np.array(formulas.storage_cost_per_month(
            max(capacity_bytes - used_bytes, 0.0), float(catalog.block_storage_per_gb_month),
            gb))))
    bill["compute"] = sum(
        decimal_to_micros(catalog.compute_price_per_hour(b.instance_type)
                          * Decimal(str(formulas.HOURS_PER_MONTH)))
        for b in snapshot.brokers)
    throughput_total = float((frame["bytes_in_per_second"] + frame["bytes_out_per_second"]).sum())
    replicas_total = float((frame["partitions"] * frame["replication_factor"]).sum())
    weight_t, weight_p = settings.compute_weight_throughput, settings.compute_weight_partitions
    if throughput_total <= 0:
        weight_t, weight_p = 0.0, 1.0
    if replicas_total <= 0:
        weight_t, weight_p = 1.0, 0.0
    allocatable = bill["compute"] / MICROS_PER_UNIT * _compute_utilisation(snapshot)
    if throughput_total > 0 or replicas_total > 0:
        idle["compute"] = bill["compute"] - round(allocatable * MICROS_PER_UNIT)
    else:
        allocatable = 0.0
    partitions_total = float(frame["partitions"].sum())
    billable = max(partitions_total - catalog.free_partitions, 0.0)
    client_share = (settings.cross_zone_client_share
                    if settings.cross_zone_client_share is not None
                    else formulas.cross_zone_client_share(snapshot.zones))
    basis = ClusterBasis(
        cluster=snapshot.cluster, catalog=catalog, zones=snapshot.zones,
        client_cross_zone_share=client_share,
        consumer_cross_zone_share=0.0 if snapshot.rack_aware_fetch else client_share,
        weight_throughput=weight_t, weight_partitions=weight_p,
        compute_allocatable=allocatable, throughput_total=throughput_total,
        partition_replicas_total=replicas_total, partitions_total=partitions_total,
        stored_bytes_total=stored_total, disk_write_total=float((bytes_in * rf).sum()),
        throughput_fee=float(throughput_fee),
        partition_billable_share=billable / partitions_total if partitions_total else 0.0,
        idle_micros=idle, unallocated_micros={},
    )
    return basis, bill


def _assemble(cluster: str, frame: pd.DataFrame, costs: dict[str, np.ndarray],
              idle: dict[str, int], unallocated: dict[str, int]) -> pd.DataFrame:
    rows = pd.DataFrame({"cluster": cluster, "topic": frame["topic"].to_numpy(),
                         "owner": frame["owner"].to_numpy()})
    for component in COMPONENTS:
        rows[f"{component}_micros"] = _to_micros(costs[component])
    special = pd.DataFrame([
        {"cluster": cluster, "topic": IDLE, "owner": IDLE,
         **{f"{c}_micros": idle[c] for c in COMPONENTS}},
        {"cluster": cluster, "topic": UNALLOCATED, "owner": UNALLOCATED,
         **{f"{c}_micros": unallocated[c] for c in COMPONENTS}},
    ])
    rows = pd.concat([rows, special], ignore_index=True)
    rows[MICRO_COLUMNS] = rows[MICRO_COLUMNS].astype(np.int64)
    rows["monthly_cost_micros"] = rows[MICRO_COLUMNS].sum(axis=1).astype(np.int64)
    return rows


def allocate(snapshot: ClusterSnapshot, catalog: PriceCatalog,
             owners: OwnerAttribution | None = None,
             settings: AllocationSettings | None = None) -> ClusterCost:
    frame = topic_frame(snapshot, owners)
    basis, bill = _basis(snapshot, catalog, settings or AllocationSettings(), frame)
    costs = topic_costs(frame, basis)
    topic_micros = {c: _to_micros(costs[c]) for c in COMPONENTS}
    for component in COMPONENTS:
        bill.setdefault(component, int(topic_micros[component].sum()))
    unallocated = {c: bill[c] - int(topic_micros[c].sum()) - basis.idle_micros[c]
                   for c in COMPONENTS}
    basis = replace(basis, unallocated_micros=unallocated)
    rows = _assemble(snapshot.cluster, frame, costs, basis.idle_micros, unallocated)
    return ClusterCost(snapshot.cluster, catalog.currency, catalog.name, rows, bill, basis, frame)


def _shared_after(basis: ClusterBasis, frame: pd.DataFrame) -> tuple[dict[str, int],
                                                                       dict[str, int]]:
    """Idle and unallocated after a change: storage scales with stored bytes, compute with
    compute load (capacity follows usage at today's headroom)."""
    rf = frame["replication_factor"].to_numpy(dtype=np.float64)
    stored_total = float(formulas.stored_bytes(frame["log_size_bytes"].to_numpy(dtype=np.float64),
                                               rf, basis.catalog.storage_counts_replicas).sum())
    ratios = dict.fromkeys(COMPONENTS, 1.0)
    ratios["storage_local"] = basis.storage_ratio(stored_total)
    ratios["compute"] = basis.compute_load_ratio(
        float((frame["bytes_in_per_second"] + frame["bytes_out_per_second"]).sum()),
        float((frame["partitions"] * frame["replication_factor"]).sum()))
    idle = {c: round(basis.idle_micros[c] * ratios[c]) for c in COMPONENTS}
    unallocated = {c: round(basis.unallocated_micros[c] * ratios[c]) for c in COMPONENTS}
    return idle, unallocated


def project(baseline: ClusterCost, frame: pd.DataFrame,
            basis: ClusterBasis | None = None) -> ClusterCost:
    """The cluster's cost after topics change to `frame` (same topics, new usage/config)."""
    basis = basis or baseline.basis
    costs = topic_costs(frame, basis)
    idle, unallocated = _shared_after(basis, frame)
    rows = _assemble(baseline.cluster, frame, costs, idle, unallocated)
    bill = {c: int(rows[f"{c}_micros"].sum()) for c in COMPONENTS}
    return ClusterCost(baseline.cluster, baseline.currency, basis.catalog.name, rows, bill,
                       basis, frame)


def projected_bill_micros(basis: ClusterBasis, frame: pd.DataFrame) -> int:
    """The bill `project` would give, without building its rows (for totals only)."""
    costs = topic_costs(frame, basis)
    idle, unallocated = _shared_after(basis, frame)
    return sum(int(_to_micros(costs[c]).sum()) + idle[c] + unallocated[c] for c in COMPONENTS)


def bill_delta_by_component(basis: ClusterBasis, before: pd.DataFrame,
                            after: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per component and row, the change in the cluster's bill (micros) if only that topic
    changed from its row in `before` to its row in `after` (row-aligned; any subset of the
    cluster's topics). The shared capacity a topic frees (idle and unallocated disk and
    compute, which follow usage) is counted in its component.

    Equals `project` of the same change to rounding of a few micros: topics are priced
    against the basis's fixed totals and shared capacity scales linearly with usage.
    """
    before_costs = topic_costs(before, basis)
    after_costs = topic_costs(after, basis)
    deltas = {c: (_to_micros(after_costs[c]) - _to_micros(before_costs[c])).astype(np.float64)
              for c in COMPONENTS}
    counts = basis.catalog.storage_counts_replicas

    def stored(f: pd.DataFrame) -> np.ndarray:
        return np.asarray(formulas.stored_bytes(f["log_size_bytes"].to_numpy(dtype=np.float64),
                                                f["replication_factor"].to_numpy(dtype=np.float64),
                                                counts))

    def load(f: pd.DataFrame) -> np.ndarray:
        thr = (f["bytes_in_per_second"] + f["bytes_out_per_second"]).to_numpy(dtype=np.float64)
        rep = (f["partitions"] * f["replication_factor"]).to_numpy(dtype=np.float64)
        thr_share = thr / basis.throughput_total if basis.throughput_total else 0 * thr
        rep_share = (rep / basis.partition_replicas_total if basis.partition_replicas_total
                     else 0 * rep)
        return basis.weight_throughput * thr_share + basis.weight_partitions * rep_share

    storage_capacity = (basis.idle_micros["storage_local"]
                        + basis.unallocated_micros.get("storage_local", 0))
    compute_capacity = basis.idle_micros["compute"] + basis.unallocated_micros.get("compute", 0)
    stored_delta = stored(after) - stored(before)
    if basis.stored_bytes_total:
        deltas["storage_local"] += storage_capacity * stored_delta / basis.stored_bytes_total
    deltas["compute"] += compute_capacity * (load(after) - load(before))
    return {c: np.rint(v).astype(np.int64) for c, v in deltas.items()}


def bill_delta_per_topic(basis: ClusterBasis, before: pd.DataFrame,
                         after: pd.DataFrame) -> np.ndarray:
    """Per row, the change in the cluster's bill (micros); see `bill_delta_by_component`."""
    deltas = bill_delta_by_component(basis, before, after)
    return np.asarray(sum(deltas[c] for c in COMPONENTS), dtype=np.int64)
