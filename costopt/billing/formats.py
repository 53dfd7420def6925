"""The three bill formats costopt reads, each into the same `RawLine`s.

- **FOCUS 1.x** (the FinOps Foundation's cost and usage format; AWS, Azure, GCP and OCI export
  it): `BilledCost` in `BillingCurrency`, `BillingPeriodStart` gives the month, `ProviderName`
  (1.3: `ServiceProviderName`) and `BillingAccountId` the bill; the cluster from `ResourceId`,
  `ResourceName` or `Tags` (a JSON object).
- **AWS CUR 2.0** (Data Exports, `COST_AND_USAGE_REPORT`): MSK lines, and EC2/EBS (and S3)
  lines of self-managed brokers found by resource id or tag; `line_item_net_unblended_cost`
  where present (after discounts), else `line_item_unblended_cost`. Tags come as the
  `resource_tags` map (JSON) or as legacy `resourceTags/user:<key>` columns.
- **Confluent Cloud** costs, with the columns of `confluent billing cost list` (v4: `resource`,
  `resource_name`, `environment`; v3: `resource_id`, `resource_display_name`,
  `environment_id`); amounts as the CLI prints them (`$12.30`) or plain numbers. Every line is
  Kafka platform spend: what is not a Kafka cluster's (connectors, ksqlDB, support, credits)
  is kept as unattributed; Cluster Linking lines on a known cluster's resource are that
  cluster's, unattributed (`other`).

A line of a resource that maps to no known cluster is another resource's, and left out; a line
with no resource (support, tax, a credit) is kept, unattributed, when its service is Kafka's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from costopt.base.money import decimal_to_micros
from costopt.billing.csvfile import decimal_value, micros, require, timestamps
from costopt.billing.lines import OTHER, BillFormatError
from costopt.billing.mapping import ClusterMapper, target_of
from costopt.cost.links import COMPONENT as LINKS
from costopt.records.bill import BillLine

FOCUS_CHARGE_CATEGORIES = {"Usage": "usage", "Purchase": "purchase", "Tax": "tax",
                           "Credit": "credit", "Adjustment": "adjustment"}
CUR_USAGE_TYPES = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}
CUR_CATEGORIES = {"Tax": "tax", "Credit": "credit", "Refund": "credit",
                  "EdpDiscount": "credit", "BundledDiscount": "credit",
                  "PrivateRateDiscount": "credit", "SavingsPlanNegation": "credit",
                  "Fee": "fee", "RIFee": "fee", "SavingsPlanRecurringFee": "fee",
                  "SavingsPlanUpfrontFee": "fee"}
CONFLUENT_TARGETS = {"KAFKA_PARTITION": "partitions", "KAFKA_STORAGE": "storage",
                     "KAFKA_NETWORK_READ": "network_consumer",
                     "KAFKA_NETWORK_WRITE": "network_producer",
                     "KAFKA_REST_PRODUCE": "network_producer", "KAFKA_BASE": "compute"}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DOLLARS = re.compile(r"^(-?)\s*\$?\s*(-?)([0-9][0-9,]*(\.[0-9]*)?|\.[0-9]+)"
                      r"(\s*(USD|usd))?$")


@dataclass(frozen=True)
class RawLine:
    """A kept line and the bill it belongs to."""

    provider: str
    account: str
    month: str
    currency: str
    line: BillLine


@dataclass
class Parsed:
    lines: list[RawLine]
    read: int
    skipped: dict[str, int]

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _currency(text: str, source: str, line: int, column: str) -> str:
    value = text.strip()
    if not _CURRENCY.match(value):
        raise BillFormatError(source, line, column, f"{text!r} is not an ISO 4217 code")
    return value


def _json_tags(text: str, source: str, line: int, column: str) -> dict[str, object]:
    if not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BillFormatError(source, line, column, f"not a JSON object: {exc.msg}") from None
    if not isinstance(tags, dict):
        raise BillFormatError(source, line, column, "not a JSON object of tags")
    return tags


def _columns(frame: pd.DataFrame, *names: str) -> dict[str, list[str]]:
    """The named columns as lists of text ('' where the file has no such column): read once,
    not cell by cell (a month of CUR holds hundreds of thousands of lines)."""
    empty = [""] * len(frame)
    return {name: frame[name].tolist() if name in frame.columns else empty for name in names}


def _first(frame: pd.DataFrame, *names: str) -> list[str]:
    """The first of `names` the file has, as a list ('' everywhere if none)."""
    for name in names:
        if name in frame.columns:
            return list(frame[name].tolist())
    return [""] * len(frame)


def _moments(values: pd.Series) -> list[datetime]:
    return [moment.to_pydatetime() for moment in values]


def parse_focus(frame: pd.DataFrame, lines: list[int], source: str, mapper: ClusterMapper,
                kafka_service: re.Pattern[str]) -> Parsed:
    provider_column = "ProviderName" if "ProviderName" in frame.columns \
        else "ServiceProviderName"
    require(frame, ["BilledCost", "BillingCurrency", "BillingPeriodStart", "ChargePeriodStart",
                    "ChargePeriodEnd", "ChargeCategory", "BillingAccountId", "ServiceName",
                    provider_column], source, "FOCUS 1.x")
    period = _moments(timestamps(frame["BillingPeriodStart"], source, lines,
                                 "BillingPeriodStart"))
    starts = _moments(timestamps(frame["ChargePeriodStart"], source, lines,
                                 "ChargePeriodStart"))
    ends = _moments(timestamps(frame["ChargePeriodEnd"], source, lines, "ChargePeriodEnd"))
    c = _columns(frame, "BilledCost", "BillingCurrency", "ChargeCategory", "BillingAccountId",
                 "ServiceName", provider_column, "SkuMeter", "ChargeDescription", "PricingUnit",
                 "ConsumedUnit", "ResourceType", "SkuId", "ResourceId", "ResourceName", "Tags",
                 "PublisherName")
    parsed = Parsed([], len(frame), {})
    for i, line in enumerate(lines):
        category = FOCUS_CHARGE_CATEGORIES.get(c["ChargeCategory"][i].strip())
        if category is None:
            raise BillFormatError(source, line, "ChargeCategory",
                                  f"{c['ChargeCategory'][i]!r} is not one of "
                                  f"{', '.join(FOCUS_CHARGE_CATEGORIES)}")
        amount = micros(c["BilledCost"][i], source, line, "BilledCost")
        currency = _currency(c["BillingCurrency"][i], source, line, "BillingCurrency")
        tags = _json_tags(c["Tags"][i], source, line, "Tags")
        resource = c["ResourceId"][i].strip() or None
        cluster = mapper.cluster_of(resource, c["ResourceName"][i], tags)
        service = " ".join([c["ServiceName"][i], c[provider_column][i], c["PublisherName"][i]])
        if cluster is None and (resource or not kafka_service.search(service)):
            parsed.skip("another resource" if resource else "another service")
            continue
        target = target_of(c["SkuMeter"][i], c["SkuId"][i], c["PricingUnit"][i],
                           c["ConsumedUnit"][i], c["ChargeDescription"][i],
                           c["ResourceType"][i], c["ServiceName"][i]) \
            if category == "usage" else OTHER
        parsed.lines.append(RawLine(
            c[provider_column][i].strip(), c["BillingAccountId"][i].strip(),
            _month(period[i]), currency,
            BillLine(line, cluster, target, category,
                     c["ChargeDescription"][i].strip() or c["ServiceName"][i], resource,
                     amount, starts[i], ends[i])))
    return parsed


def _tag_columns(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Legacy CUR's one column per tag (`resourceTags/user:team`), by tag key."""
    out = {}
    for column in frame.columns:
        for prefix in ("resource_tags_", "resourceTags/"):
            if column.startswith(prefix):
                out[column[len(prefix):]] = frame[column].tolist()
    return out


def parse_cur(frame: pd.DataFrame, lines: list[int], source: str, mapper: ClusterMapper,
              kafka_service: re.Pattern[str]) -> Parsed:
    require(frame, ["line_item_usage_start_date", "line_item_product_code",
                    "line_item_usage_type", "line_item_line_item_type",
                    "line_item_unblended_cost"], source, "AWS CUR 2.0")
    start_series = timestamps(frame["line_item_usage_start_date"], source, lines,
                              "line_item_usage_start_date")
    ends = _moments(timestamps(_column(frame, "line_item_usage_end_date"), source, lines,
                               "line_item_usage_end_date", required=False)
                    .fillna(start_series))
    period = _moments(timestamps(frame["bill_billing_period_start_date"], source, lines,
                                 "bill_billing_period_start_date")
                      if "bill_billing_period_start_date" in frame.columns else start_series)
    starts = _moments(start_series)
    c = _columns(frame, "line_item_net_unblended_cost", "line_item_unblended_cost",
                 "line_item_currency_code", "line_item_resource_id",
                 "line_item_line_item_description", "line_item_operation",
                 "line_item_line_item_type", "line_item_product_code", "line_item_usage_type",
                 "resource_tags")
    account = _first(frame, "bill_payer_account_id", "line_item_usage_account_id")
    tag_columns = _tag_columns(frame)
    parsed = Parsed([], len(frame), {})
    for i, line in enumerate(lines):
        kind = c["line_item_line_item_type"][i].strip()
        if not kind:
            raise BillFormatError(source, line, "line_item_line_item_type", "is empty")
        net = c["line_item_net_unblended_cost"][i]
        column = "line_item_net_unblended_cost" if net.strip() else "line_item_unblended_cost"
        amount = micros(c[column][i], source, line, column)
        code = _currency(c["line_item_currency_code"][i].strip() or "USD", source, line,
                         "line_item_currency_code")
        product = c["line_item_product_code"][i].strip()
        usage_type = c["line_item_usage_type"][i].strip()
        resource = c["line_item_resource_id"][i].strip() or None
        tags = _json_tags(c["resource_tags"][i], source, line, "resource_tags")
        tags.update({key: values[i].strip() for key, values in tag_columns.items()
                     if values[i].strip()})
        cluster = mapper.cluster_of(resource, None, tags)
        if cluster is None and (resource or not kafka_service.search(
                f"{product} {'msk' if product == 'AmazonMSK' else ''}")):
            parsed.skip("another resource" if resource else "another service")
            continue
        if kind in CUR_USAGE_TYPES:
            category = "usage"
            target = target_of(re.sub(r"^[A-Z0-9]+-", "", usage_type, count=1),
                               c["line_item_operation"][i])
        else:
            category, target = CUR_CATEGORIES.get(kind, "other"), OTHER
        parsed.lines.append(RawLine(
            "AWS", account[i].strip(), _month(period[i]), code,
            BillLine(line, cluster, target, category,
                     c["line_item_line_item_description"][i].strip()
                     or f"{product} {usage_type}", resource, amount, starts[i], ends[i])))
    return parsed


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _dollars(text: str, source: str, line: int, column: str) -> int:
    """An amount as the Confluent CLI prints it (`$12.30`, `-$1.00`) or a plain number."""
    value = text.strip()
    found = _DOLLARS.match(value)
    if not found:
        raise BillFormatError(source, line, column, f"{text!r} is not an amount")
    negative = bool(found.group(1) or found.group(2))
    amount = decimal_value(found.group(3).replace(",", ""), source, line, column)
    return decimal_to_micros(-amount if negative else amount)


def parse_confluent(frame: pd.DataFrame, lines: list[int], source: str,
                    mapper: ClusterMapper,
                    kafka_service: re.Pattern[str]) -> Parsed:  # noqa: ARG001 (one signature)
    require(frame, ["start_date", "end_date", "line_type", "product", "amount"], source,
            "Confluent Cloud cost export")
    starts = _moments(timestamps(frame["start_date"], source, lines, "start_date"))
    ends = _moments(timestamps(frame["end_date"], source, lines, "end_date"))
    c = _columns(frame, "amount", "line_type", "product", "description")
    resources = _first(frame, "resource", "resource_id", "resource.id")
    names = _first(frame, "resource_name", "resource_display_name", "resource.display_name")
    parsed = Parsed([], len(frame), {})
    for i, line in enumerate(lines):
        amount = _dollars(c["amount"][i], source, line, "amount")
        line_type = c["line_type"][i].strip().upper()
        product = c["product"][i].strip().upper()
        if not line_type:
            raise BillFormatError(source, line, "line_type", "is empty")
        resource = resources[i].strip() or None
        cluster = mapper.cluster_of(resource, names[i])
        kafka = product == "KAFKA"
        # Cluster Linking is billed on the cluster's own resource: its lines are that
        # cluster's `cluster_linking` component (`cost/links.py`), not the platform's.
        linked = product == "CLUSTER_LINK" and cluster is not None
        if kafka and cluster is None and resource:
            parsed.skip("another Kafka cluster")
            continue
        if kafka and (line_type in CONFLUENT_TARGETS or line_type.startswith("KAFKA_NUM_")):
            category, target = "usage", CONFLUENT_TARGETS.get(line_type, "compute")
        elif linked and line_type.startswith("CLUSTER_LINKING_"):
            category, target = "usage", LINKS
        else:
            category = {"PROMO_CREDIT": "credit", "SUPPORT": "support"}.get(
                line_type, "support" if product.startswith("SUPPORT") else "other")
            target = OTHER
        if not kafka and not linked:
            cluster = None  # a connector's or ksqlDB's line is the platform's, not a cluster's
        parsed.lines.append(RawLine(
            "Confluent", "", _month(starts[i]), "USD",
            BillLine(line, cluster, target, category,
                     c["description"][i].strip() or f"{product} {line_type}", resource, amount,
                     starts[i], ends[i])))
    return parsed


PARSERS: dict[str, Callable[[pd.DataFrame, list[int], str, ClusterMapper, re.Pattern[str]],
                            Parsed]] = {
    "focus": parse_focus, "cur": parse_cur, "confluent": parse_confluent}


def detect(frame: pd.DataFrame, source: str) -> str:
    """The format of a header: FOCUS has `BilledCost`, CUR 2.0 `line_item_unblended_cost`,
    Confluent's export `line_type` and `amount`."""
    columns = set(frame.columns)
    if "BilledCost" in columns:
        return "focus"
    if "line_item_unblended_cost" in columns:
        return "cur"
    if {"line_type", "amount"} <= columns:
        return "confluent"
    if "lineItem/UnblendedCost" in columns:
        raise BillFormatError(source, 1, "lineItem/UnblendedCost", "a legacy CUR file; "
                              "export CUR 2.0 (Data Exports) or FOCUS instead")
    raise BillFormatError(source, 1, None, "not a FOCUS 1.x, AWS CUR 2.0 or Confluent Cloud "
                          "cost export: no BilledCost, line_item_unblended_cost or "
                          "line_type/amount column")
