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

Elastic compute (Confluent's eCKUs) is billed at the units the snapshot's load needs and
shared like provisioned compute; in a projection it is metered and moves with the topics'
shares (`elastic_bill_per_month`).

Projection (what-if, recommendation savings): capacity is not elastic. Components paid for as
capacity (brokers, provisioned disks) keep their bill unless a capacity change resizes the
cluster (`resized`); a topic change moves their cost between the topic's row and `__idle__`.
Metered components (traffic, object storage, used-bytes storage, partition fees) follow usage.
So a topic change's saving is what the metered bill loses, and the capacity it frees is
reported in bytes and brokers (`capacity_freed`), never as money.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from costopt.base.money import MICROS_PER_UNIT, Money, decimal_to_micros
from costopt.cost import formulas
from costopt.cost.owners import OwnerAttribution
from costopt.prices.catalog import ElasticUnit, PriceCatalog
from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot
from costopt.snapshot.labels import CROSS_REGION_EGRESS_LABEL, INTERNET_EGRESS_LABEL

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
    "cluster_linking",  # Confluent Cloud links: estimated 0, billed to mirrored topics (links.py)
)
MICRO_COLUMNS = [f"{component}_micros" for component in COMPONENTS]
# The per-topic usage columns the cost model reads (see `topic_frame`).
USAGE_COLUMNS = ("partitions", "replication_factor", "bytes_in_per_second",
                 "bytes_out_per_second", "log_size_bytes", "remote_log_size_bytes")
# Columns as numpy arrays, one element per topic: what projections work on (no DataFrame in
# the path of a one-topic what-if).
Columns = dict[str, np.ndarray]
IntArray = npt.NDArray[np.int64]


class AllocationSettings(BaseModel):
    """How shared costs are split. Compute is shared by a weighted mix of each topic's share of
    throughput (bytes in + out) and of partition replicas; the weights must sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    compute_weight_throughput: float = Field(0.5, ge=0, le=1)
    compute_weight_partitions: float = Field(0.5, ge=0, le=1)
    cross_zone_client_share: float | None = Field(
        None, ge=0, le=1, description="share of client bytes crossing zones; default (Z-1)/Z")
    unattributed: Literal["unallocated", "proportional"] = Field(
        "unallocated", description="bill lines no component names (support, connectors, "
        "credits, taxes): to the cluster's __unallocated__ row, or spread over its topics by "
        "their billed cost")
    reads_window_hours: float = Field(
        24, gt=0, le=24 * 90, description="consumer groups' reads are measured from their "
        "committed-offset progress over this many hours of snapshots")

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

    def floats(attribute: str) -> np.ndarray:
        return np.array([getattr(t, attribute) for t in topics], dtype=np.float64)

    def ints(attribute: str) -> np.ndarray:
        return np.array([getattr(t, attribute) for t in topics], dtype=np.int64)

    return pd.DataFrame({
        "topic": names,
        "owner": owners.owners_of(names),
        **{name: floats(name) for name in (
            "partitions", "replication_factor", "bytes_in_per_second", "bytes_out_per_second",
            "messages_in_per_second", "log_size_bytes", "remote_log_size_bytes",
            "segment_bytes")},
        "remote_read_bytes_per_second": remote_read_bytes_per_second(snapshot),
        "rack_aware_read_share": rack_aware_read_share(snapshot),
        **{name: ints(name) for name in ("retention_ms", "retention_bytes",
                                         "local_retention_ms")},
        "cleanup_policy": [t.cleanup_policy for t in topics],
        "compression_type": [t.compression_type for t in topics],
        "remote_storage_enable": np.array([t.remote_storage_enable for t in topics], dtype=bool),
        # On the diskless lane (KIP-1150): none in a snapshot yet, set by a `lane` what-if.
        "diskless": np.zeros(len(topics), dtype=bool),
    })


def remote_read_bytes_per_second(snapshot: ClusterSnapshot) -> np.ndarray:
    """Per topic, the bytes its readers fetch from tiered storage: each group's reads times
    the share of them older than the topic's local retention (`remote_read_share`), from the
    group's largest lag. What tiered retrieval and GET requests are priced on."""
    index = {topic.name: i for i, topic in enumerate(snapshot.topics)}
    reads = np.zeros(len(snapshot.topics), dtype=np.float64)
    for group in snapshot.groups:
        i = index.get(group.topic)
        if i is None:
            continue
        topic = snapshot.topics[i]
        if not topic.remote_storage_enable or topic.local_retention_ms < 0:
            continue
        lag = group.max_lag_seconds if group.max_lag_seconds is not None else group.lag_seconds
        rate = (group.bytes_out_per_second if group.bytes_out_per_second is not None
                else topic.bytes_in_per_second)
        reads[i] += rate * formulas.remote_read_share(topic.local_retention_ms, lag or 0.0)
    return reads


def rack_aware_read_share(snapshot: ClusterSnapshot) -> np.ndarray:
    """Per topic, the share of its bytes out read by consumers from the replica in their own
    zone, as measured (`cost/zones.py`); NaN where not measured. A share, not bytes, so a
    projection that scales a topic's reads (growth, codec, one shared read) keeps it."""
    shares = np.full(len(snapshot.topics), np.nan, dtype=np.float64)
    for i, topic in enumerate(snapshot.topics):
        local = topic.rack_aware_read_bytes_per_second
        if local is not None:
            shares[i] = (min(max(local / topic.bytes_out_per_second, 0.0), 1.0)
                         if topic.bytes_out_per_second > 0 else 0.0)
    return shares


def consumer_cross_zone_measured(snapshot: ClusterSnapshot) -> bool:
    """Whether any topic's rack-aware reads were measured (else they are assumed)."""
    return any(t.rack_aware_read_bytes_per_second is not None for t in snapshot.topics)


def _label_share(snapshot: ClusterSnapshot, label: str) -> float:
    try:
        value = float(snapshot.labels.get(label, 0.0))
    except ValueError:
        return 0.0
    return min(max(value, 0.0), 1.0)


def columns_of(frame: pd.DataFrame) -> Columns:
    """A frame's columns as numpy arrays (numeric columns as float64 where they are usage)."""
    columns: Columns = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        columns[str(name)] = (values.astype(np.float64) if name in USAGE_COLUMNS
                              or name == "messages_in_per_second" else values)
    return columns


def take(columns: Mapping[str, np.ndarray], index: np.ndarray) -> Columns:
    """The rows at `index` of every column, as copies (safe to change)."""
    return {name: values[index] for name, values in columns.items()}


@dataclass(frozen=True)
class ClusterBasis:
    """What a projection holds fixed: prices, zones, the baseline's usage totals that shared
    compute is divided by, and the capacity the cluster pays for.

    `capacity_bill_micros` holds the components paid for as capacity (brokers, provisioned
    disks): their bill stays as it is whatever topics do, until a capacity change resizes the
    cluster. Every other component is metered and follows usage.
    """

    cluster: str
    catalog: PriceCatalog
    zones: int
    client_cross_zone_share: float
    consumer_cross_zone_share: float
    weight_throughput: float
    weight_partitions: float
    compute_allocatable: float  # money per month of the brokers' used part, shared by topics
    throughput_total: float  # bytes/s in + out, baseline
    partition_replicas_total: float
    partitions_total: float
    disk_write_total: float  # bytes in × RF, baseline: shares the provisioned-throughput fee
    throughput_fee: float
    partition_billable_share: float
    capacity_bill_micros: dict[str, int]
    unallocated_micros: dict[str, int]
    brokers: int
    disk_capacity_bytes: int
    block_price_per_gb_month: float  # disk price, by capacity over the brokers' volume types
    internet_egress_share: float  # of consumer bytes, leaving to the internet
    cross_region_egress_share: float  # of consumer bytes, leaving to another region
    elastic_unit: ElasticUnit | None  # compute billed as elastic units used (eCKUs)
    elastic_price_per_hour: float
    bytes_in_total: float = 0.0  # baseline, bytes/s: what an elastic resize is sized on
    bytes_out_total: float = 0.0

    @property
    def metered_components(self) -> tuple[str, ...]:
        return tuple(c for c in COMPONENTS if c not in self.capacity_bill_micros)

    @property
    def broker_month_price(self) -> float:
        """The compute bill per broker: what one broker's worth of freed compute is."""
        compute = self.capacity_bill_micros.get("compute", 0) / MICROS_PER_UNIT
        return compute / self.brokers if self.brokers else 0.0


def topic_costs(columns: Mapping[str, np.ndarray], basis: ClusterBasis) -> dict[str, np.ndarray]:
    """Monthly cost of each topic per component (floats, money units), from the formulas."""
    catalog = basis.catalog
    gb = catalog.gb_bytes
    rf = np.asarray(columns["replication_factor"], dtype=np.float64)
    bytes_in = np.asarray(columns["bytes_in_per_second"], dtype=np.float64)
    bytes_out = np.asarray(columns["bytes_out_per_second"], dtype=np.float64)
    partitions = np.asarray(columns["partitions"], dtype=np.float64)
    # Diskless rows (KIP-1150) keep one copy on object storage and replicate nothing between
    # brokers: no disk writes, no follower fetches, one replica of compute's partition load.
    diskless = (np.asarray(columns["diskless"], dtype=bool) if "diskless" in columns
                else np.zeros(len(rf), dtype=bool))
    rf = np.where(diskless, 1.0, rf)
    stored = formulas.stored_bytes(np.asarray(columns["log_size_bytes"], dtype=np.float64), rf,
                                   catalog.storage_counts_replicas)
    costs: dict[str, np.ndarray] = {}
    costs["storage_local"] = formulas.storage_cost_per_month(
        stored, basis.block_price_per_gb_month, gb) + \
        formulas.throughput_fee_share_per_month(np.where(diskless, 0.0, bytes_in * rf),
                                                basis.disk_write_total, basis.throughput_fee)
    costs["storage_tiered"] = _tiered_costs(columns, catalog, bytes_in) + _diskless_requests(
        np.where(diskless, bytes_in, 0.0), basis)
    cross_zone = float(catalog.cross_zone_per_gb)
    if catalog.replication_traffic_billed:
        crossing = np.where(
            diskless, formulas.diskless_coordination_bytes_per_second(
                bytes_in, catalog.diskless_coordination_cross_zone_share),
            formulas.replication_bytes_per_second(bytes_in, rf)
            * formulas.replication_cross_zone_share(basis.zones, rf))
        costs["network_replication"] = formulas.transfer_cost_per_month(crossing, cross_zone, gb)
    else:
        costs["network_replication"] = np.zeros(len(rf))
    # Diskless clients write and read through a broker in their own zone: nothing crosses.
    client_share = np.where(diskless, 0.0, basis.client_cross_zone_share)
    costs["network_producer"] = formulas.transfer_cost_per_month(
        bytes_in, float(catalog.ingress_per_gb), gb) + formulas.transfer_cost_per_month(
        bytes_in * client_share, cross_zone, gb)
    staying = 1.0 - basis.internet_egress_share - basis.cross_region_egress_share
    crossing = formulas.consumer_cross_zone_bytes_per_second(
        bytes_out, _column(columns, "rack_aware_read_share", len(rf)),
        basis.consumer_cross_zone_share)
    crossing = np.where(diskless, 0.0, crossing)
    costs["network_consumer"] = formulas.transfer_cost_per_month(
        bytes_out, float(catalog.egress_per_gb)
        + basis.internet_egress_share * float(catalog.internet_egress_per_gb)
        + basis.cross_region_egress_share * float(catalog.cross_region_per_gb), gb) \
        + formulas.transfer_cost_per_month(staying * crossing, cross_zone, gb)
    # Provisioned brokers share their used part; elastic units (eCKUs) their bill. Either way
    # by each topic's share of the baseline's throughput and partition replicas, so a change
    # to some topics moves the bill by their share alone (`elastic_bill_per_month`).
    costs["compute"] = basis.compute_allocatable * formulas.compute_share(
        bytes_in + bytes_out, partitions * rf, basis.throughput_total,
        basis.partition_replicas_total, basis.weight_throughput, basis.weight_partitions)
    costs["partitions"] = formulas.partition_cost_per_month(
        partitions, float(catalog.partition_per_hour)) * basis.partition_billable_share
    costs["cluster_linking"] = np.zeros(len(rf))  # the bill's alone (`cost/links.py`)
    for component in COMPONENTS:
        factor = catalog.component_factor(component)
        if factor != 1.0:
            costs[component] = costs[component] * factor
    return costs


def _column(columns: Mapping[str, np.ndarray], name: str, rows: int) -> np.ndarray:
    """A float column, NaN throughout where the columns predate it."""
    if name not in columns:
        return np.full(rows, np.nan, dtype=np.float64)
    return np.asarray(columns[name], dtype=np.float64)


def _tiered_costs(columns: Mapping[str, np.ndarray], catalog: PriceCatalog,
                  bytes_in: np.ndarray) -> np.ndarray:
    """Object storage (one copy), PUT requests for the segments tiering copies, and the
    retrieval and GET requests of readers reaching past the local retention."""
    gb = catalog.gb_bytes
    remote = np.asarray(columns["remote_log_size_bytes"], dtype=np.float64)
    tiered = np.asarray(columns["remote_storage_enable"], dtype=bool)
    segment = np.asarray(columns["segment_bytes"], dtype=np.float64)
    reads = np.asarray(columns["remote_read_bytes_per_second"], dtype=np.float64)
    puts = formulas.object_requests_per_month(np.where(tiered, bytes_in, 0.0), segment,
                                              catalog.tiered_objects_per_segment)
    gets = formulas.object_requests_per_month(reads, segment, 1)
    return (formulas.storage_cost_per_month(remote, float(catalog.object_storage_per_gb_month),
                                            gb)
            + formulas.request_cost_per_month(puts, float(catalog.object_put_per_1000))
            + formulas.request_cost_per_month(gets, float(catalog.object_get_per_1000))
            + formulas.transfer_cost_per_month(reads, float(catalog.tiered_retrieval_per_gb), gb))


def _diskless_requests(diskless_bytes_in: np.ndarray, basis: ClusterBasis) -> np.ndarray:
    """PUTs of the objects each broker uploads every batch interval, shared by the bytes
    written, and the GETs each zone makes for them, at the catalog's request prices."""
    catalog = basis.catalog
    objects = formulas.diskless_objects_per_month(basis.brokers,
                                                  catalog.diskless_batch_interval_ms)
    puts = formulas.diskless_put_requests_per_month(diskless_bytes_in, basis.bytes_in_total,
                                                    objects)
    gets = formulas.diskless_get_requests_per_month(puts, basis.zones,
                                                    catalog.diskless_cache_hit_share)
    return (formulas.request_cost_per_month(puts, float(catalog.object_put_per_1000))
            + formulas.request_cost_per_month(gets, float(catalog.object_get_per_1000)))


def diskless_requests_floor_per_month(basis: ClusterBasis) -> float:
    """What the cluster's object requests cost a month once any of its traffic is diskless:
    every broker uploads each interval whatever it buffered, so a lone small diskless topic
    causes them all (the per-topic model shares them by bytes written)."""
    return float(_diskless_requests(np.array([basis.bytes_in_total]), basis)[0])


def elastic_bill_per_month(unit: ElasticUnit, price_per_hour: float, bytes_in: float,
                           bytes_out: float, partitions: float) -> float:
    """The month's elastic compute bill (Confluent eCKUs) at a load: the units it needs (the
    most any dimension needs, whole units) after the free ones, at the hourly price.

    Confluent bills the eCKUs each hour's load needs; over a month they follow the load. So
    the bill is taken at the snapshot's load and then shared by the topics like provisioned
    compute (throughput and partition replicas against the baseline's totals): a change to
    some topics moves it by their share, linearly (a month of hourly whole units averages to
    fractional ones), and a what-if of a few topics prices exactly as one of all of them."""
    units = formulas.elastic_units_needed(
        bytes_in, bytes_out, partitions, unit.ingress_bytes_per_second,
        unit.egress_bytes_per_second, unit.partitions, unit.min_units)
    return float(formulas.billed_units(units, unit.free_units)
                 * formulas.compute_cost_per_month(price_per_hour))


def to_micros(amounts: np.ndarray) -> IntArray:
    return np.rint(np.asarray(amounts, dtype=np.float64) * MICROS_PER_UNIT).astype(np.int64)


def topic_micros(columns: Mapping[str, np.ndarray], basis: ClusterBasis) -> dict[str, IntArray]:
    """Each topic's cost per component in micro-units: the unit every sum is taken in."""
    return {c: to_micros(v) for c, v in topic_costs(columns, basis).items()}


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

    @property
    def bill_total_micros(self) -> int:
        return sum(self.bill_micros.values())

    @cached_property
    def topic_sums_micros(self) -> dict[str, int]:
        """Per component, what the topics cost in all: the bill is `bill_of` these."""
        rows = self.topic_rows()
        return {c: int(rows[f"{c}_micros"].sum()) for c in COMPONENTS}

    @cached_property
    def columns(self) -> Columns:
        return columns_of(self.frame)

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


def elastic_unit_of(brokers: Sequence[Broker], catalog: PriceCatalog) -> ElasticUnit | None:
    """The elastic unit the cluster is billed in (Confluent's eCKU), where its capacity is
    elastic: every broker is of a type the catalog scales with load."""
    types = {b.instance_type for b in brokers}
    if len(types) == 1:
        return catalog.elastic_units.get(types.pop())
    return None


def block_price_per_gb_month(brokers: Sequence[Broker], catalog: PriceCatalog) -> Decimal:
    """The disk price per GB-month over the brokers' volumes, weighted by their capacity, so a
    cluster of gp3 and st1 volumes prices its topics' bytes at what its disks cost."""
    capacity = sum(b.disk_capacity_bytes for b in brokers)
    if catalog.storage_billing != "provisioned" or capacity <= 0:
        return catalog.block_storage_per_gb_month
    return sum((disk_bill(b, catalog) for b in brokers), Decimal(0)) * catalog.gb_bytes \
        / Decimal(capacity)


def disk_bill(broker: Broker, catalog: PriceCatalog) -> Decimal:
    """A broker's provisioned disk a month at list: by its size tier where its volume type is
    sold in tiers (Azure Premium SSD), else per GB."""
    tiers = catalog.disk_tiers(broker.volume_type)
    if tiers is not None:
        return formulas.tiered_disk_bill_per_month(broker.disk_capacity_bytes, tiers)
    return formulas.disk_bill_per_month(broker.disk_capacity_bytes, catalog.gb_bytes,
                                        catalog.block_price_per_gb_month(broker.volume_type))


def _capacity_bill(brokers: Sequence[Broker], catalog: PriceCatalog
                   ) -> tuple[dict[str, int], Decimal]:
    """The bill of what the cluster pays for as capacity (net of its component discounts),
    and the disk-throughput fee in it (list). Elastic compute is metered, not capacity."""
    throughput_fee = sum((formulas.throughput_fee_per_month(
        Decimal(str(b.provisioned_throughput_mibps or 0)), catalog.included_throughput_mibps,
        catalog.provisioned_throughput_per_mibps_month) for b in brokers), Decimal(0))
    bill: dict[str, int] = {}
    if elastic_unit_of(brokers, catalog) is None:
        brokers_fee = sum((catalog.compute_price_per_hour(b.instance_type) for b in brokers),
                          Decimal(0)) if catalog.brokers_billed else Decimal(0)
        bill["compute"] = decimal_to_micros(
            formulas.hourly_bill_per_month(brokers_fee + catalog.cluster_per_hour)
            * catalog.discount_factor("compute"))
    if catalog.storage_billing == "provisioned":
        disks = sum((disk_bill(b, catalog) for b in brokers), Decimal(0))
        bill["storage_local"] = decimal_to_micros(
            (disks + throughput_fee) * catalog.discount_factor("storage_local"))
    return bill, throughput_fee


def _basis(snapshot: ClusterSnapshot, catalog: PriceCatalog, settings: AllocationSettings,
           columns: Columns) -> tuple[ClusterBasis, dict[str, int]]:
    """The basis of a snapshot and the idle micros per component; unallocated is left for
    `allocate` to make the residual."""
    rf = columns["replication_factor"]
    bytes_in = columns["bytes_in_per_second"]
    stored_total = float(formulas.stored_bytes(columns["log_size_bytes"], rf,
                                               catalog.storage_counts_replicas).sum())
    capacity_bill, throughput_fee = _capacity_bill(snapshot.brokers, catalog)
    block_price = float(block_price_per_gb_month(snapshot.brokers, catalog))
    idle: dict[str, int] = dict.fromkeys(COMPONENTS, 0)
    capacity_bytes = sum(b.disk_capacity_bytes for b in snapshot.brokers)
    if "storage_local" in capacity_bill:
        measured = [b.disk_used_bytes for b in snapshot.brokers if b.disk_used_bytes is not None]
        used_bytes = max(float(sum(measured)) if measured else 0.0, stored_total)
        idle["storage_local"] = int(to_micros(np.array(formulas.storage_cost_per_month(
            max(capacity_bytes - used_bytes, 0.0), block_price, catalog.gb_bytes)
            * catalog.component_factor("storage_local"))))
    throughput_total = float((bytes_in + columns["bytes_out_per_second"]).sum())
    replicas_total = float((columns["partitions"] * rf).sum())
    weight_t, weight_p = formulas.compute_weights(
        throughput_total, replicas_total, settings.compute_weight_throughput,
        settings.compute_weight_partitions)
    elastic = elastic_unit_of(snapshot.brokers, catalog)
    elastic_price = (float(catalog.compute_price_per_hour(snapshot.brokers[0].instance_type))
                     if elastic is not None else 0.0)
    allocatable = (capacity_bill["compute"] / MICROS_PER_UNIT * _compute_utilisation(snapshot)
                   if "compute" in capacity_bill else 0.0)
    if "compute" in capacity_bill and (throughput_total > 0 or replicas_total > 0):
        idle["compute"] = capacity_bill["compute"] - round(allocatable * MICROS_PER_UNIT)
    elif elastic is not None:
        allocatable = elastic_bill_per_month(
            elastic, elastic_price, float(bytes_in.sum()),
            float(columns["bytes_out_per_second"].sum()), float(columns["partitions"].sum()))
    else:
        allocatable = 0.0
    partitions_total = float(columns["partitions"].sum())
    billable = max(partitions_total - catalog.free_partitions, 0.0)
    client_share = (settings.cross_zone_client_share
                    if settings.cross_zone_client_share is not None
                    else formulas.cross_zone_client_share(snapshot.zones))
    basis = ClusterBasis(
        cluster=snapshot.cluster, catalog=catalog, zones=snapshot.zones,
        client_cross_zone_share=client_share,
        # Measured rack-aware reads replace the declared setting: what was not read locally
        # crosses with the client share. Unmeasured, the setting is assumed for every reader.
        consumer_cross_zone_share=0.0 if snapshot.rack_aware_fetch
        and not consumer_cross_zone_measured(snapshot) else client_share,
        weight_throughput=weight_t, weight_partitions=weight_p,
        compute_allocatable=allocatable, throughput_total=throughput_total,
        partition_replicas_total=replicas_total, partitions_total=partitions_total,
        disk_write_total=float((bytes_in * rf).sum()), throughput_fee=float(throughput_fee),
        partition_billable_share=billable / partitions_total if partitions_total else 0.0,
        capacity_bill_micros=capacity_bill, unallocated_micros={},
        brokers=len(snapshot.brokers), disk_capacity_bytes=capacity_bytes,
        block_price_per_gb_month=block_price,
        internet_egress_share=_label_share(snapshot, INTERNET_EGRESS_LABEL),
        cross_region_egress_share=_label_share(snapshot, CROSS_REGION_EGRESS_LABEL),
        elastic_unit=elastic, elastic_price_per_hour=elastic_price,
        bytes_in_total=float(bytes_in.sum()),
        bytes_out_total=float(columns["bytes_out_per_second"].sum()),
    )
    return basis, idle


def _assemble(cluster: str, columns: Mapping[str, np.ndarray], micros: dict[str, IntArray],
              idle: dict[str, int], unallocated: dict[str, int]) -> pd.DataFrame:
    rows = pd.DataFrame({"cluster": cluster, "topic": columns["topic"],
                         "owner": columns["owner"]})
    for component in COMPONENTS:
        rows[f"{component}_micros"] = micros[component]
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
    catalog = catalog.net()
    frame = topic_frame(snapshot, owners)
    columns = columns_of(frame)
    basis, idle = _basis(snapshot, catalog, settings or AllocationSettings(), columns)
    micros = topic_micros(columns, basis)
    bill = {c: basis.capacity_bill_micros.get(c, int(micros[c].sum())) for c in COMPONENTS}
    unallocated = {c: bill[c] - int(micros[c].sum()) - idle[c] for c in COMPONENTS}
    basis = replace(basis, unallocated_micros=unallocated)
    rows = _assemble(snapshot.cluster, columns, micros, idle, unallocated)
    return ClusterCost(snapshot.cluster, catalog.currency, catalog.name, rows, bill, basis, frame)


def bill_of(basis: ClusterBasis, topic_sums_micros: Mapping[str, int]) -> dict[str, int]:
    """The bill per component when topics cost `topic_sums_micros` in all: capacity as paid
    for, metered components as used (plus what was unallocated)."""
    return {c: basis.capacity_bill_micros[c] if c in basis.capacity_bill_micros
            else int(topic_sums_micros[c]) + basis.unallocated_micros.get(c, 0)
            for c in COMPONENTS}


def idle_of(basis: ClusterBasis, topic_sums_micros: Mapping[str, int]) -> dict[str, int]:
    """Capacity paid for and unused, per component, when topics cost `topic_sums_micros` in
    all (negative where they outgrow it): the bill less the topics and what was unallocated.
    Metered components have none (only the capacity components' sums are read)."""
    return {c: basis.capacity_bill_micros[c] - int(topic_sums_micros[c])
            - basis.unallocated_micros.get(c, 0) if c in basis.capacity_bill_micros else 0
            for c in COMPONENTS}


def project(baseline: ClusterCost, columns: Mapping[str, np.ndarray],
            basis: ClusterBasis | None = None) -> ClusterCost:
    """The cluster's cost after topics change to `columns` (same topics, new usage/config),
    on the baseline's capacity or on a resized `basis`. Idle is what capacity is left over,
    negative where the load outgrows it."""
    basis = basis or baseline.basis
    micros = topic_micros(columns, basis)
    sums = {c: int(micros[c].sum()) for c in COMPONENTS}
    bill = bill_of(basis, sums)
    unallocated = {c: basis.unallocated_micros.get(c, 0) for c in COMPONENTS}
    idle = idle_of(basis, sums)
    rows = _assemble(baseline.cluster, columns, micros, idle, unallocated)
    frame = pd.DataFrame(dict(columns))
    return ClusterCost(baseline.cluster, baseline.currency, basis.catalog.name, rows, bill,
                       basis, frame)


def resized(basis: ClusterBasis, brokers: Sequence[Broker], catalog: PriceCatalog,
            old_brokers: Sequence[Broker]) -> ClusterBasis:
    """The basis after a capacity change: new brokers (count, type, disks) or a new catalog.
    The load stays what it is, so the compute topics use is the same broker-hours at the new
    price per broker."""
    catalog = catalog.net()
    capacity_bill, throughput_fee = _capacity_bill(brokers, catalog)
    elastic = elastic_unit_of(brokers, catalog)
    old_price = np.mean([float(basis.catalog.compute_price_per_hour(b.instance_type))
                         for b in old_brokers]) if old_brokers else 0.0
    new_price = np.mean([float(catalog.compute_price_per_hour(b.instance_type))
                         for b in brokers]) if brokers else 0.0
    ratio = float(new_price / old_price) if old_price else 1.0
    unallocated = dict(basis.unallocated_micros)
    if "storage_local" not in capacity_bill:  # used-bytes storage has no capacity residual
        unallocated["storage_local"] = 0
    if "compute" not in capacity_bill:  # elastic compute is metered: no capacity residual
        unallocated["compute"] = 0
    allocatable = basis.compute_allocatable * ratio
    if elastic is not None:  # elastic units are sized on the load, whatever came before
        allocatable = elastic_bill_per_month(
            elastic, float(catalog.compute_price_per_hour(brokers[0].instance_type)),
            basis.bytes_in_total, basis.bytes_out_total, basis.partitions_total)
    return replace(basis, catalog=catalog, capacity_bill_micros=capacity_bill,
                   throughput_fee=float(throughput_fee),
                   compute_allocatable=allocatable,
                   unallocated_micros=unallocated, brokers=len(brokers),
                   disk_capacity_bytes=sum(b.disk_capacity_bytes for b in brokers),
                   block_price_per_gb_month=float(block_price_per_gb_month(brokers, catalog)),
                   elastic_unit=elastic,
                   elastic_price_per_hour=float(catalog.compute_price_per_hour(
                       brokers[0].instance_type)) if elastic is not None else 0.0)


@dataclass(frozen=True)
class CapacityFreed:
    """Capacity a change frees (negative: needs): disk bytes on brokers, and compute as
    broker-equivalents at the cluster's price per broker. Not money: it becomes money only
    when a capacity change resizes the cluster."""

    disk_bytes: float
    brokers: float

    def to_dict(self) -> dict[str, float]:
        return {"disk_bytes": round(self.disk_bytes), "brokers": round(self.brokers, 3)}


def local_stored_bytes(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Bytes on broker disks, every replica."""
    return np.asarray(columns["log_size_bytes"], dtype=np.float64) * np.asarray(
        columns["replication_factor"], dtype=np.float64)


def capacity_freed(basis: ClusterBasis, before: Mapping[str, np.ndarray],
                   after: Mapping[str, np.ndarray],
                   costs: tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per row: disk bytes and broker-equivalents freed going from `before` to `after`.
    `costs`: their `topic_costs` at `basis`, where the caller has them already."""
    disk = local_stored_bytes(before) - local_stored_bytes(after)
    price = basis.broker_month_price
    costs = costs or (topic_costs(before, basis), topic_costs(after, basis))
    compute_before, compute_after = costs[0]["compute"], costs[1]["compute"]
    brokers = (compute_before - compute_after) / price if price else np.zeros(len(disk))
    return disk, brokers
