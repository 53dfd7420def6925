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

from costopt.base.errors import InvalidInput

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
    "block_storage_per_gb_month_by_type", "block_storage_tiers_by_type",
    "provisioned_throughput_per_mibps_month",
    "object_storage_per_gb_month", "object_put_per_1000", "object_get_per_1000",
    "tiered_retrieval_per_gb", "cross_zone_per_gb", "internet_egress_per_gb",
    "cross_region_per_gb", "ingress_per_gb", "egress_per_gb", "partition_per_hour",
)
_SHAPE = re.compile(r"^(?P<vcpu>\d+(?:\.\d+)?)vcpu-(?P<gib>\d+(?:\.\d+)?)gib$")
# How a price line is marked: checked against the vendor's own price list (where and when), or
# not. A line without a mark is unverified.
UNVERIFIED = "unverified"
_VERIFIED = re.compile(r"^verified: (?P<source>.+), (?P<date>\d{4}-\d{2}-\d{2})$")
_UNVERIFIED = re.compile(r"^unverified(: .+)?$")


class CatalogError(InvalidInput):
    """A price catalog that cannot be used; the message names the file, field and value."""


class ElasticUnit(BaseModel):
    """A capacity unit the vendor scales with load and bills by the hour it is used
    (Confluent's eCKU): the units a month needs are the most any one dimension needs. The same
    limits describe a provisioned unit (Confluent Dedicated's CKU, `provisioned_units`)."""

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


class DiskTier(BaseModel):
    """A disk size sold at a fixed monthly price (Azure Premium SSD's P30, P40, ...): a disk is
    billed as the smallest tier that holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    gib: Annotated[int, Field(gt=0)]
    per_month: NonNegativePrice


DiskTiers = dict[str, dict[str, DiskTier]]


def _check_marks(marks: dict[str, str]) -> None:
    for selector, mark in marks.items():
        if not (_VERIFIED.match(mark) or _UNVERIFIED.match(mark)):
            raise ValueError(f"verification[{selector!r}]: {mark!r} is neither "
                             "'verified: <source>, <YYYY-MM-DD>' nor 'unverified'")


def stated_lines(block: BaseModel) -> list[str]:
    """The price lines a catalog (or one of its regions) states itself, one per price:
    `cross_zone_per_gb`, `compute_per_hour[m5.large]`,
    `block_storage_tiers_by_type[premium-ssd][P30]`, `capacity_unit`, `same_prices_as`."""
    lines: list[str] = []
    stated = block.model_fields_set
    for line in PRICE_LINES:
        value = getattr(block, line, None)
        if value is None or line not in stated:
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                lines += ([f"{line}[{key}][{tier}]" for tier in item]
                          if isinstance(item, dict) else [f"{line}[{key}]"])
        else:
            lines.append(line)
    for extra in ("capacity_unit", "same_prices_as"):
        if getattr(block, extra, None) is not None and extra in stated:
            lines.append(extra)
    return lines


def _names(selector: str, line: str) -> bool:
    """Whether a `verification` selector marks a price line: the line itself, or the line
    with a key (`compute_per_hour` marks `compute_per_hour[m5.large]`)."""
    return line == selector or line.startswith(selector + "[")


def line_marks(block: BaseModel) -> dict[str, str]:
    """Each stated price line's mark: the most specific `verification` selector naming it
    (the line, or the line with its key), else `unverified`."""
    marks: dict[str, str] = getattr(block, "verification", {})
    out = {}
    for line in stated_lines(block):
        named = [s for s in marks if _names(s, line)]
        out[line] = marks[max(named, key=len)] if named else UNVERIFIED
    return out


def _marks_name_lines(block: BaseModel) -> None:
    lines = stated_lines(block)
    marks: dict[str, str] = getattr(block, "verification", {})
    stray = sorted(s for s in marks if not any(_names(s, line) for line in lines))
    if stray:
        raise ValueError(f"verification names no price line stated here: {stray}")


class RegionPrices(BaseModel):
    """One region's prices. Compute is required (instance prices differ in every region);
    any other line left out is the same as in the catalog's own region, which the region's
    `source` must say. A region whose list prices are those of another (AWS prices us-west-2
    as us-east-1) says so with `same_prices_as` rather than a copy, so a copied block stands
    out (`copied_blocks`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1)
    as_of: date
    same_prices_as: str | None = None
    verification: dict[str, str] = Field(default_factory=dict)
    compute_per_hour: dict[str, NonNegativePrice] | None = None
    capacity_unit: CapacityUnit | None = None
    cluster_per_hour: NonNegativePrice | None = None
    block_storage_per_gb_month: NonNegativePrice | None = None
    block_storage_per_gb_month_by_type: dict[str, NonNegativePrice] | None = None
    block_storage_tiers_by_type: DiskTiers | None = None
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
        if not self.compute_per_hour and self.capacity_unit is None \
                and self.same_prices_as is None:
            raise ValueError("a region states its compute prices (compute_per_hour, or "
                             "capacity_unit, or same_prices_as another region): they differ "
                             "in most regions")
        _check_marks(self.verification)
        _marks_name_lines(self)
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
    # What one provisioned capacity unit carries (Confluent Dedicated's CKU), by the type its
    # "brokers" are billed as: billed as provisioned, whatever the load; read by headroom advice.
    provisioned_units: dict[str, ElasticUnit] = Field(default_factory=dict)
    brokers_billed: bool = True
    cluster_per_hour: NonNegativePrice = Decimal(0)
    # Storage on the brokers: paid for as provisioned (disk size) or as used (bytes stored).
    storage_billing: Literal["provisioned", "used"]
    storage_counts_replicas: bool = True
    block_storage_per_gb_month: NonNegativePrice
    block_storage_per_gb_month_by_type: dict[str, NonNegativePrice] = Field(default_factory=dict)
    # Disks sold by size tier rather than per GB (Azure Premium SSD), by volume type.
    block_storage_tiers_by_type: DiskTiers = Field(default_factory=dict)
    default_volume_type: str | None = Field(
        None, description="the volume type a broker without one has (else the catalog's "
        "default disk, block_storage_per_gb_month)")
    included_throughput_mibps: NonNegativePrice = Decimal(0)
    provisioned_throughput_per_mibps_month: NonNegativePrice = Decimal(0)
    # Tiered storage (KIP-405): object storage, one copy; requests and retrieval.
    object_storage_per_gb_month: NonNegativePrice = Decimal(0)
    object_put_per_1000: NonNegativePrice = Decimal(0)
    object_get_per_1000: NonNegativePrice = Decimal(0)
    tiered_objects_per_segment: int = Field(
        5, ge=1, description="objects the remote storage manager writes per closed segment")
    tiered_retrieval_per_gb: NonNegativePrice = Decimal(0)
    # Diskless topics (KIP-1150): the lane's inputs besides the object prices above
    # (docs/cost-model.md, "Lanes").
    diskless_coordination_cross_zone_share: float = Field(
        1.4 / 1024, ge=0, le=1, description="cross-zone bytes per byte written that a diskless "
        "topic still causes: Aiven's benchmark measured 1.4 MiB/s at 1 GiB/s written "
        "(aiven.io/blog/benchmarking-diskless-inkless-topics-part-1)")
    diskless_batch_interval_ms: float = Field(
        250.0, ge=50, le=60_000, description="how often each broker uploads what it buffered "
        "(one PUT): WarpStream's default batch timeout, 250 ms (at least 50 ms)")
    diskless_cache_hit_share: float = Field(
        0.0, ge=0, le=1, description="share of a zone's object fetches served from a cache "
        "rather than a GET (0: each zone fetches each object once, assumed)")
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
    verification: dict[str, str] = Field(
        default_factory=dict, description="each price line's mark, by line (e.g. "
        "compute_per_hour) or line and key (compute_per_hour[m5.large]): 'verified: <source>, "
        "<YYYY-MM-DD>' or 'unverified'; a line without one is unverified")
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
        unknown = sorted(set(self.provisioned_units) - set(self.compute_per_hour))
        if unknown:
            raise ValueError(f"provisioned_units {unknown} have no price in compute_per_hour")
        keys = set(PRICE_LINES) | set(DISCOUNTABLE_COMPONENTS) | {"all"}
        wrong = sorted(set(self.discount_pct) - keys)
        if wrong:
            raise ValueError(f"discount_pct keys {wrong} are neither a price line "
                             f"({', '.join(PRICE_LINES)}), a component "
                             f"({', '.join(DISCOUNTABLE_COMPONENTS)}) nor 'all'")
        _check_marks(self.verification)
        _marks_name_lines(self)
        for region, prices in self.regions.items():
            other = prices.same_prices_as
            if other is not None and other != self.region and (
                    other not in self.regions or self.regions[other].same_prices_as):
                raise ValueError(f"regions.{region}.same_prices_as: {other!r} is neither "
                                 f"{self.region!r} nor a region stating its own prices")
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
        overrides: dict[str, Any] = {}
        for block in (base.regions.get(prices.same_prices_as or ""), prices):
            if block is None:
                continue
            overrides.update({line: getattr(block, line) for line in PRICE_LINES
                              if getattr(block, line) is not None})
            if block.capacity_unit is not None:
                overrides["capacity_unit"] = block.capacity_unit
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
            if line == "block_storage_tiers_by_type":
                updates[line] = {kind: {name: tier.model_copy(
                    update={"per_month": tier.per_month * factor})
                    for name, tier in tiers.items()} for kind, tiers in value.items()}
            else:
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

    def disk_tiers(self, volume_type: str | None) -> list[tuple[int, Decimal]] | None:
        """The size tiers (bytes, price per month) a volume type is sold in, smallest first;
        None where it is priced per GB."""
        volume_type = volume_type or self.default_volume_type
        tiers = self.block_storage_tiers_by_type.get(volume_type or "")
        if not tiers:
            return None
        return sorted((tier.gib * GIB, tier.per_month) for tier in tiers.values())

    def block_price_per_gb_month(self, volume_type: str | None) -> Decimal:
        """The disk price of a volume type (gp3, st1, sc1, ...); None is the catalog's default
        disk (`default_volume_type`, else `block_storage_per_gb_month`). For a type sold in
        size tiers, its per-GB price where no size is known."""
        volume_type = volume_type or self.default_volume_type
        if volume_type is None:
            return self.block_storage_per_gb_month
        if volume_type in self.block_storage_per_gb_month_by_type:
            return self.block_storage_per_gb_month_by_type[volume_type]
        known = ", ".join(sorted(self.block_storage_per_gb_month_by_type)) or "none"
        raise CatalogError(f"catalog {self.name!r} ({self.region}) has no price for volume "
                           f"type {volume_type!r} (known: {known})")


def blocks(catalog: PriceCatalog) -> dict[str, BaseModel]:
    """The catalog's own region and each region under `regions:`, as stated in the file."""
    base = catalog._base or catalog
    return {base.region: base, **base.regions}


def unverified_share(catalog: PriceCatalog) -> tuple[int, int]:
    """(unverified, all) price lines the catalog states, over its own region and the others."""
    marks = [mark for block in blocks(catalog).values() for mark in line_marks(block).values()]
    return sum(1 for mark in marks if _UNVERIFIED.match(mark)), len(marks)


def copied_blocks(catalog: PriceCatalog) -> list[tuple[str, str, str]]:
    """(region, other region, line) where a region states the very same prices for a line of
    several entries (its instance prices, say) as another: a copied block, which prices one
    region as another without saying so (`same_prices_as` says so)."""
    found: list[tuple[str, str, str]] = []
    stated = blocks(catalog)
    names = sorted(stated)
    for i, region in enumerate(names):
        for other in names[i + 1:]:
            for line in ("compute_per_hour", "block_storage_per_gb_month_by_type",
                         "block_storage_tiers_by_type"):
                mine, theirs = (getattr(stated[r], line) for r in (region, other))
                if (line in stated[region].model_fields_set and mine and len(mine) > 1
                        and line in stated[other].model_fields_set and mine == theirs):
                    found.append((region, other, line))
    return found


def _describe(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(file)"
        problems.append(f"{source}: field {field!r}: {item['msg']} (value: {item.get('input')!r})")
    return "invalid price catalog\n" + "\n".join(problems)


def parse_catalog(text: str, source: str) -> PriceCatalog:
    try:
        # libyaml's parser (PyYAML's wheels carry it): a catalog is read for every cluster
        # analysed, and the pure-Python parser took eight times as long.
        data = yaml.load(text, Loader=yaml.CSafeLoader)
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
    folder = resources.files("costopt.prices") / "catalogs"
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
    resource = resources.files("costopt.prices") / "catalogs" / f"{name}.yaml"
    catalog = parse_catalog(resource.read_text(), f"built-in catalog {name}")
    return catalog.in_region(region) if region else catalog


def resolve_catalog(name_or_path: str) -> PriceCatalog:
    """A built-in catalog name, or a path to the user's own file, optionally `@region`; with
    the catalog's discounts applied (what the user pays)."""
    name, region = split_ref(name_or_path)
    builtin = name in builtin_catalog_names()
    catalog = load_builtin_catalog(name) if builtin else load_catalog(name)
    return priced_in(catalog, region)
