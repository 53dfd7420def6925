"""Bills generated from an estimate, in each format's documented columns: what the demo
imports to show reconciliation, and what tests reconcile against (a bill `factor` × the
estimate, e.g. 1.07 for "7% above").

Each cluster gets one line per thing its provider bills separately (brokers, storage, tiered
storage, transfer, partitions), as the provider would name it; amounts are the prorated
estimate of those components times `factor`, to the micro-unit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import pandas as pd

from costopt.base.money import micros_to_decimal
from costopt.billing.reconcile import Estimate, Month, prorate

# What each format bills separately: (label, components).
FOCUS_LINES = (
    ("Broker hours", ("compute",)), ("Storage GB-Month", ("storage_local",)),
    ("Tiered storage GB-Month", ("storage_tiered",)),
    ("Data transfer", ("network_replication", "network_producer", "network_consumer")),
    ("Partition hours", ("partitions",)))
SERVICE = {"msk": "Amazon Managed Streaming for Apache Kafka",
           "confluent_cloud": "Confluent Cloud", "self_managed": "Apache Kafka",
           "on_prem": "Apache Kafka"}
PROVIDER = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Microsoft",
            "confluent": "Confluent", "on-prem": "On-premises"}


def _amounts(estimate: Estimate, month: Month, factor: Decimal,
             lines: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, Decimal]]:
    rows = prorate(estimate.rows, month.hours)
    out = []
    for label, components in lines:
        micros = int(sum(rows[f"{c}_micros"].sum() for c in components))
        if micros:
            out.append((label, (micros_to_decimal(micros) * factor).quantize(
                Decimal("0.000001"))))
    return out


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def focus_bill(estimates: Mapping[str, Estimate], month: Month, factor: Decimal = Decimal(1),
               account: str = "111122223333") -> str:
    """A FOCUS 1.2 bill: a line per cluster and billed item, the cluster in `Tags`."""
    rows = []
    for name, estimate in sorted(estimates.items()):
        catalog = estimate.catalog
        for label, amount in _amounts(estimate, month, factor, FOCUS_LINES):
            rows.append({
                "BilledCost": str(amount), "EffectiveCost": str(amount), "ListCost": str(amount),
                "ContractedCost": str(amount), "BillingCurrency": catalog.currency,
                "BillingPeriodStart": _iso(month.start), "BillingPeriodEnd": _iso(month.end),
                "ChargePeriodStart": _iso(month.start), "ChargePeriodEnd": _iso(month.end),
                "ChargeCategory": "Usage", "ChargeClass": "", "ChargeDescription":
                f"{label} of {name}", "ChargeFrequency": "Usage-Based",
                "ProviderName": PROVIDER.get(catalog.provider, catalog.provider),
                "PublisherName": PROVIDER.get(catalog.provider, catalog.provider),
                "InvoiceIssuerName": PROVIDER.get(catalog.provider, catalog.provider),
                "BillingAccountId": account, "BillingAccountName": "", "ServiceName":
                SERVICE[catalog.kind], "ServiceCategory": "Integration",
                "ServiceSubcategory": "Messaging", "ResourceId": f"kafka/{name}",
                "ResourceName": name, "RegionId": catalog.region, "SkuMeter": label,
                "PricingQuantity": "1", "PricingUnit": "Month",
                "Tags": json.dumps({"kafka_cluster": name})})
    result: str = pd.DataFrame(rows).to_csv(index=False)
    return result


CUR_LINES = {
    "msk": (("Kafka.m5.large", ("compute",)), ("Kafka.Storage.GP2", ("storage_local",)),
            ("Kafka.Storage.Tiered", ("storage_tiered",)),
            ("DataTransfer-Regional-Bytes", ("network_replication", "network_producer",
                                             "network_consumer"))),
    "self_managed": (("BoxUsage:m5.large", ("compute",)),
                     ("EBS:VolumeUsage.gp3", ("storage_local",)),
                     ("TimedStorage-ByteHrs", ("storage_tiered",)),
                     ("DataTransfer-Regional-Bytes", ("network_replication",
                                                      "network_producer",
                                                      "network_consumer"))),
}
CUR_PRODUCT = {"Kafka.": "AmazonMSK", "BoxUsage": "AmazonEC2", "EBS:": "AmazonEC2",
               "TimedStorage": "AmazonS3", "DataTransfer": "AWSDataTransfer"}


def cur_bill(estimates: Mapping[str, Estimate], month: Month, factor: Decimal = Decimal(1),
             account: str = "111122223333", region_prefix: str = "USE1") -> str:
    """An AWS CUR 2.0 bill: MSK or EC2/EBS/S3/transfer lines per cluster, tagged with
    `user_kafka_cluster` (an activated cost-allocation tag)."""
    rows = []
    for name, estimate in sorted(estimates.items()):
        lines = CUR_LINES["msk" if estimate.catalog.kind == "msk" else "self_managed"]
        for usage_type, amount in _amounts(estimate, month, factor, lines):
            product = next(p for prefix, p in CUR_PRODUCT.items()
                           if usage_type.startswith(prefix))
            rows.append({
                "bill_payer_account_id": account, "bill_billing_period_start_date":
                _iso(month.start), "line_item_usage_account_id": account,
                "line_item_line_item_type": "Usage", "line_item_usage_start_date":
                _iso(month.start), "line_item_usage_end_date": _iso(month.end),
                "line_item_product_code": product,
                "line_item_usage_type": f"{region_prefix}-{usage_type}",
                "line_item_operation": "", "line_item_resource_id": "",
                "line_item_usage_amount": "1", "line_item_currency_code":
                estimate.catalog.currency, "line_item_unblended_cost": str(amount),
                "line_item_net_unblended_cost": "",
                "line_item_line_item_description": f"{usage_type} of {name}",
                "resource_tags": json.dumps({"user_kafka_cluster": name})})
    result: str = pd.DataFrame(rows).to_csv(index=False)
    return result


CONFLUENT_LINES = (("KAFKA_NUM_CKUS", ("compute",)),
                   ("KAFKA_STORAGE", ("storage_local", "storage_tiered")),
                   ("KAFKA_NETWORK_WRITE", ("network_producer",)),
                   ("KAFKA_NETWORK_READ", ("network_consumer",)),
                   ("KAFKA_PARTITION", ("partitions",)))


# The simulated invoice's Cluster Linking rates: illustrative, not prices (costopt prices no
# links, `cost/links.py`): one link an hour, and a GiB the link writes.
LINK_PER_HOUR = Decimal("0.10")
LINK_PER_GIB = Decimal("0.05")


def _link_amounts(estimate: Estimate, month: Month) -> list[tuple[str, Decimal]]:
    """One link's hours, and the GiB it mirrors in (the mirrored topics' bytes in)."""
    if not estimate.mirrored:
        return []
    gib = Decimal(sum(estimate.mirrored.values()) * month.hours * 3600 / 2**30)
    return [("CLUSTER_LINKING_PER_LINK",
             (LINK_PER_HOUR * Decimal(month.hours)).quantize(Decimal("0.01"))),
            ("CLUSTER_LINKING_WRITE", (LINK_PER_GIB * gib).quantize(Decimal("0.01")))]


def confluent_bill(estimates: Mapping[str, Estimate], month: Month,
                   factor: Decimal = Decimal(1)) -> str:
    """A Confluent Cloud cost export (`confluent billing cost list` columns, v4), amounts
    printed as the CLI prints them; a cluster that mirrors topics has its link's lines
    (product CLUSTER_LINK, at the illustrative rates above, not scaled by `factor`)."""
    rows = []
    for name, estimate in sorted(estimates.items()):
        lines = [("KAFKA", *line) for line in _amounts(estimate, month, factor,
                                                       CONFLUENT_LINES)]
        lines += [("CLUSTER_LINK", *line) for line in _link_amounts(estimate, month)]
        for product, line_type, amount in lines:
            rows.append({
                "start_date": month.start.strftime("%Y-%m-%d"),
                "end_date": month.end.strftime("%Y-%m-%d"), "granularity": "MONTHLY",
                "line_type": line_type, "product": product, "resource": f"lkc-{name}",
                "resource_name": name, "environment": "env-demo",
                "network_access_type": "INTERNET", "price": "", "original_amount":
                f"${amount}", "discount_amount": "$0.00", "amount": f"${amount}"})
    result: str = pd.DataFrame(rows).to_csv(index=False)
    return result


def generated_bill(format: str, estimates: Mapping[str, Estimate], month: Month,
                   factor: Decimal = Decimal(1)) -> bytes:
    writers = {"focus": focus_bill, "cur": cur_bill, "confluent": confluent_bill}
    return writers[format](estimates, month, factor).encode()
