"""The price catalog schema and loader.

A catalog is the only place prices live. Users point config at their own file; a file that
does not validate is refused with the file, the field and the offending value, because a
silently wrong price makes every figure downstream wrong.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costopt.errors import InvalidInput

NonNegativePrice = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
GIB = 1024**3


class CatalogError(InvalidInput):
    """A price catalog that cannot be used; the message names the file, field and value."""


class PriceCatalog(BaseModel):
    """Prices for one offering in one region. All prices are in `currency`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Literal["self_managed", "msk", "confluent_cloud", "on_prem"]
    provider: str
    region: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    source: str = Field(min_length=1, description="where the figures come from")
    as_of: date
    gb_bytes: int = Field(GIB, description="bytes in the GB the vendor bills by")
    # Compute: price per hour of a broker instance type (or a capacity unit such as an eCKU).
    compute_per_hour: dict[str, NonNegativePrice] = Field(min_length=1)
    # Storage on the brokers: paid for as provisioned (disk size) or as used (bytes stored).
    storage_billing: Literal["provisioned", "used"]
    storage_counts_replicas: bool = True
    block_storage_per_gb_month: NonNegativePrice
    included_throughput_mibps: NonNegativePrice = Decimal(0)
    provisioned_throughput_per_mibps_month: NonNegativePrice = Decimal(0)
    # Tiered storage (KIP-405): object storage, one copy.
    object_storage_per_gb_month: NonNegativePrice = Decimal(0)
    # Network.
    cross_zone_per_gb: NonNegativePrice = Decimal(0)
    internet_egress_per_gb: NonNegativePrice = Decimal(0)
    ingress_per_gb: NonNegativePrice = Decimal(0)
    egress_per_gb: NonNegativePrice = Decimal(0)
    replication_traffic_billed: bool = True
    # Partitions, where the offering prices them.
    partition_per_hour: NonNegativePrice = Decimal(0)
    free_partitions: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _gb_is_a_gb(self) -> PriceCatalog:
        if self.gb_bytes not in (10**9, GIB):
            raise ValueError(f"gb_bytes must be 1000000000 (GB) or {GIB} (GiB)")
        return self

    def compute_price_per_hour(self, instance_type: str) -> Decimal:
        try:
            return self.compute_per_hour[instance_type]
        except KeyError:
            known = ", ".join(sorted(self.compute_per_hour))
            raise CatalogError(
                f"catalog {self.name!r} has no price for instance type {instance_type!r} "
                f"(known: {known})"
            ) from None


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


def builtin_catalog_names() -> list[str]:
    folder = resources.files("costopt.pricing") / "catalogs"
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir()
                  if item.name.endswith(".yaml"))


def load_builtin_catalog(name: str) -> PriceCatalog:
    """A shipped catalog by name (e.g. `aws-self-managed`): list prices, one region."""
    if name not in builtin_catalog_names():
        raise CatalogError(
            f"no built-in price catalog {name!r} (built-in: {', '.join(builtin_catalog_names())})"
        )
    resource = resources.files("costopt.pricing") / "catalogs" / f"{name}.yaml"
    return parse_catalog(resource.read_text(), f"built-in catalog {name}")


def resolve_catalog(name_or_path: str) -> PriceCatalog:
    """A built-in catalog name, or a path to the user's own file."""
    if name_or_path in builtin_catalog_names():
        return load_builtin_catalog(name_or_path)
    return load_catalog(name_or_path)
