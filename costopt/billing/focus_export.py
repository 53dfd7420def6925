"""A month's allocation as FOCUS rows (1.3 by default; 1.2 and 1.4 on request), so FinOps tools
ingest costopt's chargeback directly.

One FOCUS row per allocation row (a topic's producer side, each reader's consumer side, the
cluster's idle and unallocated rows). `BilledCost` is the row's share of the bill where the
cluster has one that month (`x_Basis` billed), else of the prorated estimate (`estimated`);
`ListCost` is the row's estimate at the catalog's list prices, so the difference shows
discounts and what the model misses. Custom columns (`x_` prefix, after the FOCUS ones) carry
the split, its measured share and the amount per cost component.

FOCUS 1.2 has no words for an allocation: `ResourceId` is `cluster/topic` and `Tags` carry the
owner and the side (and the consumer group). FOCUS 1.3 does (split cost allocation): the
charge is the cluster's (`ResourceId` the cluster), split by `AllocatedMethodId`
`costopt-topic-share` into allocated charges, one per topic side (`AllocatedResourceId`
`cluster/topic`, `AllocatedTags` the owner, side and group, `AllocatedMethodDetails` the row's
ratio of the cluster's charge); the idle and unallocated rows are the charge's unallocated
part (no `AllocatedResourceId`). 1.3 also adds the mandatory `ServiceProviderName` and
`HostProviderName`; 1.4 drops `ProviderName` and `PublisherName`.

Nulls are empty fields; dates are `YYYY-MM-DDTHH:mm:ssZ`; numbers are plain decimals.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from costopt.base.money import micros_to_decimal
from costopt.billing.reconcile import MonthAllocation
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED
from costopt.prices.catalog import PriceCatalog

FOCUS_VERSIONS = ("1.2", "1.3", "1.4")
DEFAULT_FOCUS_VERSION = "1.3"
FOCUS_VERSION = DEFAULT_FOCUS_VERSION
# How costopt splits a cluster's charge into allocated charges (docs/cost-model.md): the value of
# FOCUS 1.3's AllocatedMethodId.
ALLOCATED_METHOD_ID = "costopt-topic-share"
# FOCUS 1.2's columns (FOCUS_Spec v1.2, specification/columns): feature level, whether nulls
# are allowed, data type.
FOCUS_1_2_COLUMNS: dict[str, tuple[str, bool, str]] = {
    "AvailabilityZone": ("Recommended", True, "String"),
    "BilledCost": ("Mandatory", False, "Decimal"),
    "BillingAccountId": ("Mandatory", False, "String"),
    "BillingAccountName": ("Mandatory", True, "String"),
    "BillingAccountType": ("Conditional", False, "String"),
    "BillingCurrency": ("Mandatory", False, "String"),
    "BillingPeriodEnd": ("Mandatory", False, "Date/Time"),
    "BillingPeriodStart": ("Mandatory", False, "Date/Time"),
    "CapacityReservationId": ("Conditional", True, "String"),
    "CapacityReservationStatus": ("Conditional", True, "String"),
    "ChargeCategory": ("Mandatory", False, "String"),
    "ChargeClass": ("Mandatory", True, "String"),
    "ChargeDescription": ("Mandatory", True, "String"),
    "ChargeFrequency": ("Recommended", False, "String"),
    "ChargePeriodEnd": ("Mandatory", False, "Date/Time"),
    "ChargePeriodStart": ("Mandatory", False, "Date/Time"),
    "CommitmentDiscountCategory": ("Conditional", True, "String"),
    "CommitmentDiscountId": ("Conditional", True, "String"),
    "CommitmentDiscountName": ("Conditional", True, "String"),
    "CommitmentDiscountQuantity": ("Conditional", True, "Decimal"),
    "CommitmentDiscountStatus": ("Conditional", True, "String"),
    "CommitmentDiscountType": ("Conditional", True, "String"),
    "CommitmentDiscountUnit": ("Conditional", True, "String"),
    "ConsumedQuantity": ("Conditional", True, "Decimal"),
    "ConsumedUnit": ("Conditional", True, "String"),
    "ContractedCost": ("Mandatory", False, "Decimal"),
    "ContractedUnitPrice": ("Conditional", True, "Decimal"),
    "EffectiveCost": ("Mandatory", False, "Decimal"),
    "InvoiceId": ("Recommended", True, "String"),
    "InvoiceIssuerName": ("Mandatory", False, "String"),
    "ListCost": ("Mandatory", False, "Decimal"),
    "ListUnitPrice": ("Conditional", True, "Decimal"),
    "PricingCategory": ("Conditional", True, "String"),
    "PricingCurrency": ("Conditional", True, "String"),
    "PricingCurrencyContractedUnitPrice": ("Conditional", True, "Decimal"),
    "PricingCurrencyEffectiveCost": ("Conditional", True, "Decimal"),
    "PricingCurrencyListUnitPrice": ("Conditional", True, "Decimal"),
    "PricingQuantity": ("Mandatory", True, "Decimal"),
    "PricingUnit": ("Mandatory", True, "String"),
    "ProviderName": ("Mandatory", False, "String"),
    "PublisherName": ("Mandatory", False, "String"),
    "RegionId": ("Conditional", True, "String"),
    "RegionName": ("Conditional", True, "String"),
    "ResourceId": ("Conditional", True, "String"),
    "ResourceName": ("Conditional", True, "String"),
    "ResourceType": ("Conditional", True, "String"),
    "ServiceCategory": ("Mandatory", False, "String"),
    "ServiceName": ("Mandatory", False, "String"),
    "ServiceSubcategory": ("Recommended", False, "String"),
    "SkuId": ("Conditional", True, "String"),
    "SkuMeter": ("Conditional", True, "String"),
    "SkuPriceDetails": ("Conditional", True, "JSON"),
    "SkuPriceId": ("Conditional", True, "String"),
    "SubAccountId": ("Conditional", True, "String"),
    "SubAccountName": ("Conditional", True, "String"),
    "SubAccountType": ("Conditional", True, "String"),
    "Tags": ("Conditional", True, "JSON"),
}
# FOCUS 1.3's new Cost and Usage columns (FOCUS_Spec, specification/datasets/cost_and_usage/
# columns, "Introduced (version) 1.3"). ProviderName and PublisherName stay, deprecated.
FOCUS_1_3_ADDED: dict[str, tuple[str, bool, str]] = {
    "AllocatedMethodDetails": ("Recommended", True, "JSON"),
    "AllocatedMethodId": ("Conditional", True, "String"),
    "AllocatedResourceId": ("Conditional", True, "String"),
    "AllocatedResourceName": ("Conditional", True, "String"),
    "AllocatedTags": ("Conditional", True, "JSON"),
    "ContractApplied": ("Conditional", True, "JSON"),
    "HostProviderName": ("Mandatory", False, "String"),
    "ServiceProviderName": ("Mandatory", False, "String"),
}
FOCUS_1_4_DROPPED = ("ProviderName", "PublisherName")
ALLOCATED = ["AllocatedMethodId", "AllocatedMethodDetails", "AllocatedResourceId",
             "AllocatedResourceName", "AllocatedTags"]


def focus_columns(version: str) -> dict[str, tuple[str, bool, str]]:
    """A FOCUS version's Cost and Usage columns: feature level, nulls allowed, data type."""
    check_version(version)
    columns = dict(FOCUS_1_2_COLUMNS)
    if version >= "1.3":
        columns.update(FOCUS_1_3_ADDED)
    if version >= "1.4":
        for name in FOCUS_1_4_DROPPED:
            columns.pop(name)
    return dict(sorted(columns.items()))


def check_version(version: str) -> None:
    if version not in FOCUS_VERSIONS:
        raise ValueError(f"FOCUS version {version!r} is not one costopt writes "
                         f"({', '.join(FOCUS_VERSIONS)})")


def exported_columns(version: str) -> list[str]:
    """What costopt writes: every mandatory column, the recommended ones it can fill, and the
    conditional ones that apply to an allocation (a resource, a region, tags, the split)."""
    columns = focus_columns(version)
    return [name for name, (level, _, _) in columns.items() if level == "Mandatory"] \
        + ["ChargeFrequency", "ServiceSubcategory", "InvoiceId", "ResourceId", "ResourceName",
           "ResourceType", "RegionId", "RegionName", "Tags",
           *(ALLOCATED if version >= "1.3" else [])]


CUSTOM = ["x_Cluster", "x_Topic", "x_Owner", "x_TopicOwner", "x_Side", "x_ConsumerGroup",
          "x_Principal", "x_Basis", "x_Split", "x_MeasuredShare", "x_EstimatedCost",
          *[f"x_{c.title().replace('_', '')}Cost" for c in (*COMPONENTS, "other")]]
SERVICE = {"msk": "Amazon Managed Streaming for Apache Kafka",
           "confluent_cloud": "Confluent Cloud", "self_managed": "Apache Kafka",
           "on_prem": "Apache Kafka"}
PROVIDER = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Microsoft",
            "confluent": "Confluent", "on-prem": "On-premises"}
# RegionName, the provider's own name for a region (FOCUS: present, and not null where RegionId
# is not): the regions of costopt's catalogs, as AWS ("Regions and Availability Zones"), Azure
# (the portal's region names) and Google Cloud ("Regions and zones") name them. A region not
# listed (a catalog of the user's, on premises) is named by its id.
REGION_NAME = {
    ("aws", "us-east-1"): "US East (N. Virginia)", ("aws", "us-west-2"): "US West (Oregon)",
    ("aws", "eu-west-1"): "Europe (Ireland)", ("aws", "eu-central-1"): "Europe (Frankfurt)",
    ("aws", "ap-southeast-1"): "Asia Pacific (Singapore)",
    ("azure", "eastus"): "East US", ("azure", "westeurope"): "West Europe",
    ("gcp", "us-central1"): "Iowa", ("gcp", "europe-west1"): "Belgium",
}
RESOURCE_TYPE = {IDLE: "Kafka cluster capacity (idle)", UNALLOCATED: "Kafka cluster usage "
                 "(unallocated)"}


def _amounts(micros: pd.Series) -> list[str]:
    return [str(micros_to_decimal(int(m)).quantize(Decimal("0.000001"))) for m in micros]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _provider(allocation: MonthAllocation, cluster: str) -> str:
    catalog = allocation.catalogs.get(cluster)
    if catalog is not None:
        return PROVIDER.get(catalog.provider, catalog.provider)
    return allocation.accounts.get(cluster, ("unknown", ""))[0] or "unknown"


def _hosting(catalog: PriceCatalog) -> tuple[str, str]:
    """The cloud and cloud region a catalog's clusters run in: a Confluent Cloud region names
    both (`aws-us-east-1`); any other catalog runs in its provider's own region."""
    if catalog.provider == "confluent" and "-" in catalog.region:
        cloud, region = catalog.region.split("-", 1)
        return cloud, region
    return catalog.provider, catalog.region


def _host(allocation: MonthAllocation, cluster: str, provider: str) -> str:
    """Whose infrastructure the service runs on: a Confluent Cloud cluster's cloud, else the
    provider itself."""
    catalog = allocation.catalogs.get(cluster)
    if catalog is not None and catalog.provider == "confluent":
        return PROVIDER.get(_hosting(catalog)[0], provider)
    return provider


def _region_name(allocation: MonthAllocation, cluster: str) -> str:
    """The cluster's region as its provider names it (a Confluent Cloud region by its
    cloud's name), else its id."""
    catalog = allocation.catalogs.get(cluster)
    if catalog is None:
        return ""
    return REGION_NAME.get(_hosting(catalog), catalog.region)


def _ratios(rows: pd.DataFrame) -> list[str]:
    """Each row's share of its cluster's charge, as FOCUS 1.3's AllocatedMethodDetails."""
    totals = rows.groupby("cluster")["monthly_cost_micros"].transform("sum")
    out = []
    for micros, total in zip(rows["monthly_cost_micros"], totals, strict=True):
        ratio = Decimal(int(micros)) / Decimal(int(total)) if int(total) else Decimal(0)
        out.append(json.dumps({"Elements": [{"AllocatedRatio": float(round(ratio, 12))}]},
                              separators=(",", ":")))
    return out


def _account(allocation: MonthAllocation, cluster: str, basis: str) -> str:
    if basis == "billed" and cluster in allocation.accounts:
        provider, account = allocation.accounts[cluster]
        return account or provider
    return "costopt-estimate"


def focus_frame(allocation: MonthAllocation,
                version: str = DEFAULT_FOCUS_VERSION) -> pd.DataFrame:
    """The allocation as a FOCUS table of `version` (every cell text; '' is null)."""
    check_version(version)
    rows = allocation.rows.sort_values(["cluster", "side", "topic", "group", "principal"],
                                       kind="stable", ignore_index=True)
    catalogs = allocation.catalogs
    n = len(rows)
    cluster = rows["cluster"].astype(str)
    topic = rows["topic"].astype(str)
    kind = cluster.map(lambda c: catalogs[c].kind if c in catalogs else "")
    provider = cluster.map(lambda c: _provider(allocation, c))
    issuer = [allocation.accounts[c][0] if b == "billed" and c in allocation.accounts else p
              for c, b, p in zip(cluster, rows["basis"], provider, strict=True)]
    billed = _amounts(rows["monthly_cost_micros"])
    estimated = _amounts(rows["estimated_micros"])
    special = rows["topic"].isin([IDLE, UNALLOCATED])
    consumer = rows["group"].astype(str)
    principal = rows["principal"].astype(str)
    reader = np.where(principal != "", "service account " + principal,
                      np.where(consumer != "", "group " + consumer, "unknown readers"))
    description = np.where(
        special, rows["topic"] + " of Kafka cluster " + cluster,
        np.where(rows["side"] == "consumer",
                 rows["topic"] + " on " + cluster + ": read by " + reader + " (" +
                 rows["split"] + ")",
                 rows["topic"] + " on " + cluster + ": producer side" + np.where(
                     principal != "", ", written by service account " + principal, "")))
    tags = [json.dumps({"owner": o, "side": s, **({"consumer_group": g} if g else {}),
                        **({"principal": p} if p else {})}, separators=(",", ":"))
            for o, s, g, p in zip(rows["owner"], rows["side"], consumer, principal,
                                  strict=True)]
    start, end = _iso(allocation.month.start), _iso(allocation.month.end)
    columns: dict[str, object] = {
        "BilledCost": billed, "BillingAccountId": [
            _account(allocation, c, b) for c, b in zip(cluster, rows["basis"], strict=True)],
        "BillingAccountName": "", "BillingCurrency": allocation.currency,
        "BillingPeriodEnd": end, "BillingPeriodStart": start, "ChargeCategory": "Usage",
        "ChargeClass": "", "ChargeDescription": description, "ChargePeriodEnd": end,
        "ChargePeriodStart": start, "ContractedCost": billed, "EffectiveCost": billed,
        "InvoiceIssuerName": issuer, "ListCost": estimated, "PricingQuantity": "1",
        "PricingUnit": "Month", "ProviderName": provider, "PublisherName": provider,
        "ServiceCategory": "Integration",
        "ServiceName": kind.map(lambda k: SERVICE.get(k, "Apache Kafka")),
        "ChargeFrequency": "Usage-Based", "ServiceSubcategory": "Messaging",
        # costopt holds no invoice numbers: null, as FOCUS wants where none is known.
        "InvoiceId": "",
        "RegionId": cluster.map(lambda c: catalogs[c].region if c in catalogs else ""),
        "RegionName": cluster.map(lambda c: _region_name(allocation, c)),
    }
    if version == "1.2":
        columns.update({
            "ResourceId": cluster + "/" + topic, "ResourceName": topic,
            "ResourceType": rows["topic"].map(lambda t: RESOURCE_TYPE.get(t, "Kafka topic")),
            "Tags": tags})
    else:
        columns.update({
            "ResourceId": cluster, "ResourceName": cluster, "ResourceType": "Kafka cluster",
            "Tags": "", "ServiceProviderName": provider,
            "HostProviderName": [_host(allocation, c, p)
                                 for c, p in zip(cluster, provider, strict=True)],
            "AllocatedMethodId": ALLOCATED_METHOD_ID,
            "AllocatedMethodDetails": _ratios(rows),
            "AllocatedResourceId": np.where(special, "", cluster + "/" + topic),
            "AllocatedResourceName": np.where(special, "", topic),
            "AllocatedTags": tags})
    columns.update({
        "x_Cluster": cluster, "x_Topic": rows["topic"], "x_Owner": rows["owner"],
        "x_TopicOwner": rows["topic_owner"], "x_Side": rows["side"],
        "x_ConsumerGroup": consumer, "x_Principal": principal, "x_Basis": rows["basis"],
        "x_Split": rows["split"],
        "x_MeasuredShare": [f"{v:.4f}" for v in rows["measured_share"]],
        "x_EstimatedCost": estimated,
        **{f"x_{c.title().replace('_', '')}Cost": _amounts(rows[f"{c}_micros"])
           for c in (*COMPONENTS, "other")}})
    out = pd.DataFrame(columns, index=range(n))
    return out[[*exported_columns(version), *CUSTOM]]


def write_focus_csv(allocation: MonthAllocation, path: Path,
                    version: str = DEFAULT_FOCUS_VERSION) -> Path:
    focus_frame(allocation, version).to_csv(path, index=False)
    return path


def focus_csv(allocation: MonthAllocation, version: str = DEFAULT_FOCUS_VERSION) -> str:
    return str(focus_frame(allocation, version).to_csv(index=False))
