"""Allocate a cluster's monthly bill to its topics, opencost-style.

The bill is computed from what is paid for (brokers, provisioned disks, metered traffic); the
topic rows from what each topic uses. Two explicit rows make the parts add up to the bill:
`__idle__` (capacity paid for and unused) and `__unallocated__` (used, but not by any topic we
know, e.g. disk used beyond the topics' logs). All sums are of integer micro-units, so
topic rows + idle + unallocated == bill exactly, per component.

Steps, per component:
1. the bill, from the catalog and the brokers (or, for metered components, from usage);
2. each topic's share, from the formulas in `formulas.py`;
3. idle, where capacity is provisioned and not used;
4. unallocated = bill - topics - idle (the residual; it also absorbs sub-micro rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
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


class AllocationSettings(BaseModel):
    """How shared costs are split. Compute is shared by a weighted mix of each topic's share of
    throughput (bytes in + out) and of partition replicas; the weights must sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    compute_weight_throughput: float = Field(0.5, ge=0, le=1)
    compute_weight_partitions: float = Field(0.5, ge=0, le=1)
    cross_zone_client_share: float | None = Field(
        None, ge=0, le=1, description="share of client bytes crossing zones; default (Z-1)/Z"
    )

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> AllocationSettings:
        if abs(self.compute_weight_throughput + self.compute_weight_partitions - 1) > 1e-9:
            raise ValueError("compute_weight_throughput + compute_weight_partitions must be 1")
        return self


def _to_micros(amounts: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amounts, dtype=np.float64) * MICROS_PER_UNIT).astype(np.int64)


def _shares(values: np.ndarray) -> np.ndarray:
    total = float(values.sum())
    return values / total if total > 0 else np.zeros_like(values, dtype=np.float64)


@dataclass(frozen=True)
class ClusterCost:
    """One cluster's monthly cost: a row per topic plus `__idle__` and `__unallocated__`.

    `rows` has columns cluster, topic, owner, `<component>_micros` for each component and
    `monthly_cost_micros`; `bill_micros` is the bill per component.
    """

    cluster: str
    currency: str
    catalog: str
    rows: pd.DataFrame
    bill_micros: dict[str, int]

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


def allocate(snapshot: ClusterSnapshot, catalog: PriceCatalog,
             owners: OwnerAttribution | None = None,
             settings: AllocationSettings | None = None) -> ClusterCost:
    owners = owners or OwnerAttribution()
    settings = settings or AllocationSettings()
    topics = snapshot.topics
    names = [topic.name for topic in topics]
    partitions = np.array([t.partitions for t in topics], dtype=np.float64)
    rf = np.array([t.replication_factor for t in topics], dtype=np.float64)
    bytes_in = np.array([t.bytes_in_per_second for t in topics], dtype=np.float64)
    bytes_out = np.array([t.bytes_out_per_second for t in topics], dtype=np.float64)
    log_size = np.array([t.log_size_bytes for t in topics], dtype=np.float64)
    remote_size = np.array([t.remote_log_size_bytes for t in topics], dtype=np.float64)
    gb = catalog.gb_bytes
    topic_micros: dict[str, np.ndarray] = {}
    bill: dict[str, int] = {}
    idle: dict[str, int] = dict.fromkeys(COMPONENTS, 0)

    # Storage on broker disks.
    topic_stored = formulas.stored_bytes(log_size, rf, catalog.storage_counts_replicas)
    block_price = float(catalog.block_storage_per_gb_month)
    topic_micros["storage_local"] = _to_micros(
        formulas.storage_cost_per_month(topic_stored, block_price, gb))
    if catalog.storage_billing == "provisioned":
        capacity_bytes = sum(b.disk_capacity_bytes for b in snapshot.brokers)
        bill["storage_local"] = decimal_to_micros(
            Decimal(capacity_bytes) / gb * catalog.block_storage_per_gb_month)
        measured = [b.disk_used_bytes for b in snapshot.brokers if b.disk_used_bytes is not None]
        used_bytes = max(float(sum(measured)) if measured else 0.0, float(topic_stored.sum()))
        idle["storage_local"] = int(_to_micros(np.array(
            formulas.storage_cost_per_month(max(capacity_bytes - used_bytes, 0.0),
                                            block_price, gb))))
    else:
        bill["storage_local"] = int(topic_micros["storage_local"].sum())
    # Provisioned disk throughput above what is included, shared by disk write rate.
    extra_mibps = sum(
        (max(Decimal(0), Decimal(str(b.provisioned_throughput_mibps or 0))
             - catalog.included_throughput_mibps) for b in snapshot.brokers), Decimal(0))
    throughput_fee = extra_mibps * catalog.provisioned_throughput_per_mibps_month
    if throughput_fee > 0:
        fee_micros = decimal_to_micros(throughput_fee)
        bill["storage_local"] += fee_micros
        topic_micros["storage_local"] += _to_micros(
            _shares(bytes_in * rf) * float(throughput_fee))

    # Tiered storage: object storage, one copy, billed as used.
    topic_micros["storage_tiered"] = _to_micros(formulas.storage_cost_per_month(
        remote_size, float(catalog.object_storage_per_gb_month), gb))
    bill["storage_tiered"] = int(topic_micros["storage_tiered"].sum())

    # Network: metered, so the bill is the sum of what topics move.
    zones = snapshot.zones
    client_share = (settings.cross_zone_client_share
                    if settings.cross_zone_client_share is not None
                    else formulas.cross_zone_client_share(zones))
    cross_zone = float(catalog.cross_zone_per_gb)
    if catalog.replication_traffic_billed:
        replication_cross_zone = (formulas.replication_bytes_per_second(bytes_in, rf)
                                  * formulas.replication_cross_zone_share(zones, rf))
        topic_micros["network_replication"] = _to_micros(
            formulas.transfer_cost_per_month(replication_cross_zone, cross_zone, gb))
    else:
        topic_micros["network_replication"] = np.zeros(len(topics), dtype=np.int64)
    producer_price = float(catalog.ingress_per_gb) + client_share * cross_zone
    consumer_share = 0.0 if snapshot.rack_aware_fetch else client_share
    consumer_price = float(catalog.egress_per_gb) + consumer_share * cross_zone
    topic_micros["network_producer"] = _to_micros(
        formulas.transfer_cost_per_month(bytes_in, producer_price, gb))
    topic_micros["network_consumer"] = _to_micros(
        formulas.transfer_cost_per_month(bytes_out, consumer_price, gb))
    for component in ("network_replication", "network_producer", "network_consumer"):
        bill[component] = int(topic_micros[component].sum())

    # Compute: brokers paid for; the used part shared by throughput and partition weights.
    bill["compute"] = sum(
        decimal_to_micros(catalog.compute_price_per_hour(b.instance_type)
                          * Decimal(str(formulas.HOURS_PER_MONTH)))
        for b in snapshot.brokers)
    utilisation = _compute_utilisation(snapshot)
    allocatable = bill["compute"] * utilisation
    throughput_share = _shares(bytes_in + bytes_out)
    partition_share = _shares(partitions * rf)
    weight_t, weight_p = settings.compute_weight_throughput, settings.compute_weight_partitions
    if not throughput_share.any():
        weight_t, weight_p = 0.0, 1.0
    if not partition_share.any():
        weight_t, weight_p = 1.0, 0.0
    compute_share = weight_t * throughput_share + weight_p * partition_share
    topic_micros["compute"] = np.rint(compute_share * allocatable).astype(np.int64)
    idle["compute"] = round(bill["compute"] - allocatable) if compute_share.any() else 0

    # Partitions, where priced per partition-hour beyond a free allowance.
    total_partitions = float(partitions.sum())
    billable = max(total_partitions - catalog.free_partitions, 0.0)
    partition_rate = float(catalog.partition_per_hour)
    bill["partitions"] = int(_to_micros(np.array(
        formulas.partition_cost_per_month(billable, partition_rate))))
    topic_micros["partitions"] = np.rint(
        _shares(partitions) * bill["partitions"]).astype(np.int64)

    # Assemble rows; unallocated is the residual per component.
    rows = pd.DataFrame({"cluster": snapshot.cluster, "topic": names,
                         "owner": owners.owners_of(names)})
    for component in COMPONENTS:
        rows[f"{component}_micros"] = topic_micros[component]
    special: list[dict[str, object]] = []
    for label, owner in ((IDLE, IDLE), (UNALLOCATED, UNALLOCATED)):
        special.append({"cluster": snapshot.cluster, "topic": label, "owner": owner})
    for component in COMPONENTS:
        special[0][f"{component}_micros"] = idle[component]
        special[1][f"{component}_micros"] = (
            bill[component] - int(topic_micros[component].sum()) - idle[component])
    rows = pd.concat([rows, pd.DataFrame(special)], ignore_index=True)
    micro_columns = [f"{c}_micros" for c in COMPONENTS]
    rows[micro_columns] = rows[micro_columns].astype(np.int64)
    rows["monthly_cost_micros"] = rows[micro_columns].sum(axis=1).astype(np.int64)
    return ClusterCost(snapshot.cluster, catalog.currency, catalog.name, rows, bill)
