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
  is kept as unattributed.

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

from costopt.billing.csvfile import decimal_value, micros, require, timestamps
from costopt.billing.lines import OTHER, BillFormatError, BillLine
from costopt.billing.mapping import ClusterMapper, target_of
from costopt.money import decimal_to_micros

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


def _column(frame: pd.DataFrame, *names: str) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def parse_focus(frame: pd.DataFrame, lines: list[int], source: str, mapper: ClusterMapper,
                kafka_service: re.Pattern[str]) -> Parsed:
    provider_column = "ProviderName" if "ProviderName" in frame.columns \
        else "ServiceProviderName"
    require(frame, ["BilledCost", "BillingCurrency", "BillingPeriodStart", "ChargePeriodStart",
                    "ChargePeriodEnd", "ChargeCategory", "BillingAccountId", "ServiceName",
                    provider_column], source, "FOCUS 1.x")
    period = timestamps(frame["BillingPeriodStart"], source, lines, "BillingPeriodStart")
    starts = timestamps(frame["ChargePeriodStart"], source, lines, "ChargePeriodStart")
    ends = timestamps(frame["ChargePeriodEnd"], source, lines, "ChargePeriodEnd")
    words = {name: _column(frame, name) for name in (
        "SkuMeter", "ChargeDescription", "PricingUnit", "ConsumedUnit", "ResourceType",
        "SkuId", "ServiceSubcategory", "ResourceId", "ResourceName", "Tags", "PublisherName")}
    parsed = Parsed([], len(frame), {})
    for i, row in enumerate(frame.itertuples(index=False)):
        line = lines[i]
        record = row._asdict()
        category = FOCUS_CHARGE_CATEGORIES.get(record["ChargeCategory"].strip())
        if category is None:
            raise BillFormatError(source, line, "ChargeCategory",
                                  f"{record['ChargeCategory']!r} is not one of "
                                  f"{', '.join(FOCUS_CHARGE_CATEGORIES)}")
        amount = micros(record["BilledCost"], source, line, "BilledCost")
        currency = _currency(record["BillingCurrency"], source, line, "BillingCurrency")
        tags = _json_tags(words["Tags"].iloc[i], source, line, "Tags")
        resource = words["ResourceId"].iloc[i].strip() or None
        cluster = mapper.cluster_of(resource, words["ResourceName"].iloc[i], tags)
        service = " ".join([record["ServiceName"], record[provider_column],
                            words["PublisherName"].iloc[i]])
        if cluster is None and (resource or not kafka_service.search(service)):
            parsed.skip("another resource" if resource else "another service")
            continue
        target = target_of(words["SkuMeter"].iloc[i], words["SkuId"].iloc[i],
                           words["PricingUnit"].iloc[i], words["ConsumedUnit"].iloc[i],
                           words["ChargeDescription"].iloc[i], words["ResourceType"].iloc[i],
                           record["ServiceName"]) if category == "usage" else OTHER
        parsed.lines.append(RawLine(
            record[provider_column].strip(), record["BillingAccountId"].strip(),
            _month(period.iloc[i]), currency,
            BillLine(line, cluster, target, category,
                     words["ChargeDescription"].iloc[i].strip() or record["ServiceName"],
                     resource, amount, starts.iloc[i].to_pydatetime(),
                     ends.iloc[i].to_pydatetime())))
    return parsed


def _cur_tags(frame: pd.DataFrame, i: int, source: str, line: int) -> dict[str, object]:
    tags: dict[str, object] = {}
    if "resource_tags" in frame.columns:
        tags.update(_json_tags(frame["resource_tags"].iloc[i], source, line, "resource_tags"))
    for column in frame.columns:
        for prefix in ("resource_tags_", "resourceTags/"):
            if column.startswith(prefix) and frame[column].iloc[i].strip():
                tags[column[len(prefix):]] = frame[column].iloc[i].strip()
    return tags


def parse_cur(frame: pd.DataFrame, lines: list[int], source: str, mapper: ClusterMapper,
              kafka_service: re.Pattern[str]) -> Parsed:
    require(frame, ["line_item_usage_start_date", "line_item_product_code",
                    "line_item_usage_type", "line_item_line_item_type",
                    "line_item_unblended_cost"], source, "AWS CUR 2.0")
    starts = timestamps(frame["line_item_usage_start_date"], source, lines,
                        "line_item_usage_start_date")
    ends = timestamps(_column(frame, "line_item_usage_end_date"), source, lines,
                      "line_item_usage_end_date", required=False).fillna(starts)
    period = (timestamps(frame["bill_billing_period_start_date"], source, lines,
                         "bill_billing_period_start_date")
              if "bill_billing_period_start_date" in frame.columns else starts)
    net = _column(frame, "line_item_net_unblended_cost")
    account = _column(frame, "bill_payer_account_id", "line_item_usage_account_id")
    currency = _column(frame, "line_item_currency_code")
    resource_ids = _column(frame, "line_item_resource_id")
    descriptions = _column(frame, "line_item_line_item_description")
    operations = _column(frame, "line_item_operation")
    parsed = Parsed([], len(frame), {})
    for i in range(len(frame)):
        line = lines[i]
        kind = frame["line_item_line_item_type"].iloc[i].strip()
        if not kind:
            raise BillFormatError(source, line, "line_item_line_item_type", "is empty")
        column = "line_item_net_unblended_cost" if net.iloc[i].strip() \
            else "line_item_unblended_cost"
        amount = micros(net.iloc[i] if net.iloc[i].strip() else
                        frame["line_item_unblended_cost"].iloc[i], source, line, column)
        code = currency.iloc[i].strip() or "USD"
        code = _currency(code, source, line, "line_item_currency_code")
        product = frame["line_item_product_code"].iloc[i].strip()
        usage_type = frame["line_item_usage_type"].iloc[i].strip()
        resource = resource_ids.iloc[i].strip() or None
        cluster = mapper.cluster_of(resource, None, _cur_tags(frame, i, source, line))
        if cluster is None and (resource or not kafka_service.search(
                f"{product} {'msk' if product == 'AmazonMSK' else ''}")):
            parsed.skip("another resource" if resource else "another service")
            continue
        if kind in CUR_USAGE_TYPES:
            category = "usage"
            target = target_of(re.sub(r"^[A-Z0-9]+-", "", usage_type, count=1),
                               operations.iloc[i])
        else:
            category, target = CUR_CATEGORIES.get(kind, "other"), OTHER
        parsed.lines.append(RawLine(
            "AWS", account.iloc[i].strip(), _month(period.iloc[i]), code,
            BillLine(line, cluster, target, category,
                     descriptions.iloc[i].strip() or f"{product} {usage_type}", resource,
                     amount, starts.iloc[i].to_pydatetime(), ends.iloc[i].to_pydatetime())))
    return parsed


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
                    mapper: ClusterMapper, kafka_service: re.Pattern[str]) -> Parsed:
    require(frame, ["start_date", "end_date", "line_type", "product", "amount"], source,
            "Confluent Cloud cost export")
    starts = timestamps(frame["start_date"], source, lines, "start_date")
    ends = timestamps(frame["end_date"], source, lines, "end_date")
    resources = _column(frame, "resource", "resource_id", "resource.id")
    names = _column(frame, "resource_name", "resource_display_name", "resource.display_name")
    descriptions = _column(frame, "description")
    parsed = Parsed([], len(frame), {})
    for i in range(len(frame)):
        line = lines[i]
        amount = _dollars(frame["amount"].iloc[i], source, line, "amount")
        line_type = frame["line_type"].iloc[i].strip().upper()
        product = frame["product"].iloc[i].strip().upper()
        if not line_type:
            raise BillFormatError(source, line, "line_type", "is empty")
        resource = resources.iloc[i].strip() or None
        cluster = mapper.cluster_of(resource, names.iloc[i])
        kafka = product == "KAFKA"
        if kafka and cluster is None and resource:
            parsed.skip("another Kafka cluster")
            continue
        if kafka and (line_type in CONFLUENT_TARGETS or line_type.startswith("KAFKA_NUM_")):
            category, target = "usage", CONFLUENT_TARGETS.get(line_type, "compute")
        else:
            category = {"PROMO_CREDIT": "credit", "SUPPORT": "support"}.get(
                line_type, "support" if product.startswith("SUPPORT") else "other")
            target = OTHER
        if not kafka:
            cluster = None  # a connector's or ksqlDB's line is the platform's, not a cluster's
        parsed.lines.append(RawLine(
            "Confluent", "", _month(starts.iloc[i]), "USD",
            BillLine(line, cluster, target, category,
                     descriptions.iloc[i].strip() or f"{product} {line_type}", resource, amount,
                     starts.iloc[i].to_pydatetime(), ends.iloc[i].to_pydatetime())))
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
