"""The price catalog schema and loader.

A catalog is the only place prices live. Users point config at their own file; a file that
does not validate is refused with the file, the field and the offending value, because a
silently wrong price makes every figure downstream wrong.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from costopt.errors import InvalidInput

NonNegativePrice = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, lt=100, allow_inf_nan=False)]
GIB = 1024**3
# The cost components a per-component discount may name (`costopt.cost.allocation.COMPONENTS`;
# repeated here so the catalog does not import the cost model).
DISCOUNTABLE_COMPONENTS = ("storage_local", "storage_tiered", "network_replication",
                           "network_producer", "network_consumer", "compute", "partitions")
# Every price line of a catalog: what a region may override and a line discount may name.
PRICE_LINES = (
    "compute_per_hour", "cluster_per_hour", "block_storage_per_gb_month",
    "block_storage_per_gb_month_by_type", "provisioned_throughput_per_mibps_month",
    "object_storage_per_gb_month", "object_put_per_1000", "object_get_per_1000",
    "tiered_retrieval_per_gb", "cross_zone_per_gb", "internet_egress_per_gb",
    "cross_region_per_gb", "ingress_per_gb", "egress_per_gb", "partition_per_hour",
)
_SHAPE = re.compile(r"^(?P<vcpu>\d+(?:\.\d+)?)vcpu-(?P<gib>\d+(?:\.\d+)?)gib$")


class CatalogError(InvalidInput):
    """A price catalog that cannot be used; the message names the file, field and value."""


class ElasticUnit(BaseModel):
    """A capacity unit the vendor scales with load and bills by the hour it is used
    (Confluent's eCKU): the units a month needs are the most any one dimension needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ingress_bytes_per_second: Annotated[float, Field(gt=0)]
    egress_bytes_per_second: Annotated[float, Field(gt=0)]
    partitions: Annotated[int, Field(gt=0)]
    min_units: Annotated[int, Field(ge=0)] = 0
    free_units: Annotated[int, Field(ge=0)] = 0


class CapacityUnit(BaseModel):
    """A vendor's compute unit priced from a broker's vCPUs and memory (Google Cloud Managed
    Kafka's DCU): a broker shape `<vCPU>vcpu-<GiB>gib` costs (vCPU x per_vcpu + GiB x
    per_gib_memory) units per hour."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    per_hour: NonNegativePrice
    per_vcpu: NonNegativePrice
    per_gib_memory: NonNegativePrice


class RegionPrices(BaseModel):
    """One region's prices. Compute is required (instance prices differ in every region);
    any other line left out is the same as in the catalog's own region, which the region's
    `source` must say."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1)
    as_of: date
    compute_per_hour: dict[str, NonNegativePrice] | None = None
    capacity_unit: CapacityUnit | None = None
    cluster_per_hour: NonNegativePrice | None = None
    block_storage_per_gb_month: NonNegativePrice | None = None
    block_storage_per_gb_month_by_type: dict[str, NonNegativePrice] | None = None
    provisioned_throughput_per_mibps_month: NonNegativePrice | None = None
    object_storage_per_gb_month: NonNegativePrice | None = None
    object_put_per_1000: NonNegativePrice | None = None
    object_get_per_1000: NonNegativePrice | None = None
    tiered_retrieval_per_gb: NonNegativePrice | None = None
    cross_zone_per_gb: NonNegativePrice | None = None
    internet_egress_per_gb: NonNegativePrice | None = None
    cross_region_per_gb: NonNegativePrice | None = None
    ingress_per_gb: NonNegativePrice | None = None
    egress_per_gb: NonNegativePrice | None = None
    partition_per_hour: NonNegativePrice | None = None

    @model_validator(mode="after")
    def _compute_is_regional(self) -> RegionPrices:
        if not self.compute_per_hour and self.capacity_unit is None:
            raise ValueError("a region states its compute prices (compute_per_hour, or "
                             "capacity_unit): they differ in every region")
        return self


class PriceCatalog(BaseModel):
    """Prices for one offering, in its own `region` and any others under `regions`. All prices
    are in `currency`, list prices; `discount_pct` says what the user actually pays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Literal["self_managed", "msk", "msk_express", "msk_serverless", "confluent_cloud",
                  "gcp_managed_kafka", "on_prem"]
    provider: str
    region: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    source: str = Field(min_length=1, description="where the figures come from")
    as_of: date
    gb_bytes: int = Field(GIB, description="bytes in the GB the vendor bills by")
    # Compute: price per hour of a broker instance type (or a capacity unit such as an eCKU).
    compute_per_hour: dict[str, NonNegativePrice] = Field(default_factory=dict)
    capacity_unit: CapacityUnit | None = None
    elastic_units: dict[str, ElasticUnit] = Field(default_factory=dict)
    brokers_billed: bool = True
    cluster_per_hour: NonNegativePrice = Decimal(0)
    # Storage on the brokers: paid for as provisioned (disk size) or as used (bytes stored).
    storage_billing: Literal["provisioned", "used"]
    storage_counts_replicas: bool = True
    block_storage_per_gb_month: NonNegativePrice
    block_storage_per_gb_month_by_type: dict[str, NonNegativePrice] = Field(default_factory=dict)
    included_throughput_mibps: NonNegativePrice = Decimal(0)
    provisioned_throughput_per_mibps_month: NonNegativePrice = Decimal(0)
    # Tiered storage (KIP-405): object storage, one copy; requests and retrieval.
    object_storage_per_gb_month: NonNegativePrice = Decimal(0)
    object_put_per_1000: NonNegativePrice = Decimal(0)
    object_get_per_1000: NonNegativePrice = Decimal(0)
    tiered_objects_per_segment: int = Field(
        5, ge=1, description="objects the remote storage manager writes per closed segment")
    tiered_retrieval_per_gb: NonNegativePrice = Decimal(0)
    # Network.
    cross_zone_per_gb: NonNegativePrice = Decimal(0)
    internet_egress_per_gb: NonNegativePrice = Decimal(0)
    cross_region_per_gb: NonNegativePrice = Decimal(0)
    ingress_per_gb: NonNegativePrice = Decimal(0)
    egress_per_gb: NonNegativePrice = Decimal(0)
    replication_traffic_billed: bool = True
    # Partitions, where the offering prices them.
    partition_per_hour: NonNegativePrice = Decimal(0)
    free_partitions: int = Field(0, ge=0)
    # Other regions, and what the user pays below list.
    regions: dict[str, RegionPrices] = Field(default_factory=dict)
    discount_pct: dict[str, Percent] = Field(
        default_factory=dict, description="percent off list, by price line (e.g. "
        "compute_per_hour), by cost component (e.g. network_consumer), or `all`")
    _base: PriceCatalog | None = PrivateAttr(None)
    _net: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _consistent(self) -> PriceCatalog:
        if self.gb_bytes not in (10**9, GIB):
            raise ValueError(f"gb_bytes must be 1000000000 (GB) or {GIB} (GiB)")
        if not self.compute_per_hour and self.capacity_unit is None and self.brokers_billed:
            raise ValueError("compute_per_hour needs at least one instance type (or a "
                             "capacity_unit, or brokers_billed: false)")
        unknown = sorted(set(self.elastic_units) - set(self.compute_per_hour))
        if unknown:
            raise ValueError(f"elastic_units {unknown} have no price in compute_per_hour")
        keys = set(PRICE_LINES) | set(DISCOUNTABLE_COMPONENTS) | {"all"}
        wrong = sorted(set(self.discount_pct) - keys)
        if wrong:
            raise ValueError(f"discount_pct keys {wrong} are neither a price line "
                             f"({', '.join(PRICE_LINES)}), a component "
                             f"({', '.join(DISCOUNTABLE_COMPONENTS)}) nor 'all'")
        return self

    @property
    def known_regions(self) -> list[str]:
        base = self._base or self
        return sorted({base.region, *base.regions})

    def in_region(self, region: str) -> PriceCatalog:
        """This offering's list prices in `region`: lines the region states replace the
        catalog's own; a region the catalog does not price is refused, never guessed."""
        base = self._base or self
        if self._net:
            raise CatalogError(f"catalog {self.name!r}: choose the region before discounts")
        if region == base.region:
            return base
        prices = base.regions.get(region)
        if prices is None:
            raise CatalogError(
                f"catalog {base.name!r} has no prices for region {region!r} (regions: "
                f"{', '.join(base.known_regions)}); add them under `regions:` in your own "
                "catalog file")
        overrides: dict[str, Any] = {
            line: getattr(prices, line) for line in PRICE_LINES
            if getattr(prices, line) is not None}
        if prices.capacity_unit is not None:
            overrides["capacity_unit"] = prices.capacity_unit
        overrides.update(region=region, source=prices.source, as_of=prices.as_of)
        regional = base.model_copy(update=overrides)
        regional._base = base
        return regional

    def discount_factor(self, key: str) -> Decimal:
        """What is paid per unit of list price for a line or component: 1 - pct/100."""
        return 1 - self.discount_pct.get(key, Decimal(0)) / 100

    def component_factor(self, component: str) -> float:
        return float(self.discount_factor(component))

    def net(self) -> PriceCatalog:
        """The catalog with line discounts (`all` and per line) applied to its prices; the
        component discounts stay for the cost model to apply. Idempotent, so every entry point
        may call it."""
        if self._net:
            return self
        updates: dict[str, Any] = {}
        for line in PRICE_LINES:
            factor = self.discount_factor("all") * self.discount_factor(line)
            if factor == 1:
                continue
            value = getattr(self, line)
            updates[line] = ({key: price * factor for key, price in value.items()}
                             if isinstance(value, dict) else value * factor)
        if self.capacity_unit is not None:
            factor = self.discount_factor("all") * self.discount_factor("compute_per_hour")
            if factor != 1:
                updates["capacity_unit"] = self.capacity_unit.model_copy(
                    update={"per_hour": self.capacity_unit.per_hour * factor})
        priced = self.model_copy(update=updates)
        priced._base = self._base
        priced._net = True
        return priced

    def compute_price_per_hour(self, instance_type: str) -> Decimal:
        if instance_type in self.compute_per_hour:
            return self.compute_per_hour[instance_type]
        shape = _SHAPE.match(instance_type) if self.capacity_unit is not None else None
        if shape is not None and self.capacity_unit is not None:
            unit = self.capacity_unit
            units = (Decimal(shape["vcpu"]) * unit.per_vcpu
                     + Decimal(shape["gib"]) * unit.per_gib_memory)
            return units * unit.per_hour
        known = ", ".join(sorted(self.compute_per_hour)) or "none"
        if self.capacity_unit is not None:
            known += f"; or a shape '<vCPU>vcpu-<GiB>gib' in {self.capacity_unit.name}s"
        raise CatalogError(
            f"catalog {self.name!r} ({self.region}) has no price for instance type "
            f"{instance_type!r} (known: {known})")

    def block_price_per_gb_month(self, volume_type: str | None) -> Decimal:
        """The disk price of a volume type (gp3, st1, sc1, ...); None is the catalog's default
        disk (`block_storage_per_gb_month`)."""
        if volume_type is None:
            return self.block_storage_per_gb_month
        if volume_type in self.block_storage_per_gb_month_by_type:
            return self.block_storage_per_gb_month_by_type[volume_type]
        known = ", ".join(sorted(self.block_storage_per_gb_month_by_type)) or "none"
        raise CatalogError(f"catalog {self.name!r} ({self.region}) has no price for volume "
                           f"type {volume_type!r} (known: {known})")


def _describe(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(file)"
        problems.append(f"{source}: field {field!r}: {item['msg']} (value: {item.get('input')!r})")
    return "invalid price catalog\n" + "\n".join(problems)


def parse_catalog(text: str, source: str) -> PriceCatalog:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: a price catalog is a mapping, got {type(data).__name__}")
    try:
        return PriceCatalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_describe(exc, source)) from None


def load_catalog(path: str | Path) -> PriceCatalog:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read price catalog: {exc.strerror}") from None
    return parse_catalog(text, str(path))


REGION_SEPARATOR = "@"


def catalog_ref(catalog: str, region: str | None) -> str:
    """How a cluster names its prices: `aws-msk@eu-west-1`, or the catalog alone for its own
    region. Stored with each snapshot, so a cluster is priced where it runs."""
    return f"{catalog}{REGION_SEPARATOR}{region}" if region else catalog


def split_ref(ref: str) -> tuple[str, str | None]:
    """`name@region` -> (name, region); a path may contain `@` only before its last `/`."""
    head, sep, region = ref.rpartition(REGION_SEPARATOR)
    if not sep or not region or "/" in region:
        return ref, None
    return head, region


def priced_in(catalog: PriceCatalog, region: str | None) -> PriceCatalog:
    """The catalog in `region` (its own when None), with its discounts applied."""
    return (catalog.in_region(region) if region else catalog).net()


def builtin_catalog_names() -> list[str]:
    folder = resources.files("costopt.pricing") / "catalogs"
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir()
                  if item.name.endswith(".yaml"))


def load_builtin_catalog(name: str) -> PriceCatalog:
    """A shipped catalog by name (e.g. `aws-self-managed`, list prices in its own region), or
    by `name@region` (that region's prices)."""
    name, region = split_ref(name)
    if name not in builtin_catalog_names():
        raise CatalogError(
            f"no built-in price catalog {name!r} (built-in: {', '.join(builtin_catalog_names())})"
        )
    resource = resources.files("costopt.pricing") / "catalogs" / f"{name}.yaml"
    catalog = parse_catalog(resource.read_text(), f"built-in catalog {name}")
    return catalog.in_region(region) if region else catalog


def resolve_catalog(name_or_path: str) -> PriceCatalog:
    """A built-in catalog name, or a path to the user's own file, optionally `@region`; with
    the catalog's discounts applied (what the user pays)."""
    name, region = split_ref(name_or_path)
    builtin = name in builtin_catalog_names()
    catalog = load_builtin_catalog(name) if builtin else load_catalog(name)
    return priced_in(catalog, region)
