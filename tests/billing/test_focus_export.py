"""The FOCUS export validates against FOCUS 1.2's columns: every mandatory column present, each
value of its type, no null where nulls are not allowed, allowed values where the spec lists
them, custom columns after the FOCUS ones; and its BilledCost adds up to the allocation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from costopt.analysis import analyze_store
from costopt.billing.focus_export import write_focus_csv
from costopt.billing.importer import import_bill
from costopt.billing.month import reconcile
from costopt.store import Store, sqlite_url
from tests.billing.conftest import SAMPLES, seeded, settings_for

# FOCUS 1.2, specification/columns (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec @ v1.2): the
# Mandatory columns, whether they allow nulls, and their data type. Copied here so the test
# checks the export against the spec, not against the exporter's own table.
MANDATORY = {
    "BilledCost": (False, "Decimal"), "BillingAccountId": (False, "String"),
    "BillingAccountName": (True, "String"), "BillingCurrency": (False, "String"),
    "BillingPeriodEnd": (False, "Date/Time"), "BillingPeriodStart": (False, "Date/Time"),
    "ChargeCategory": (False, "String"), "ChargeClass": (True, "String"),
    "ChargeDescription": (True, "String"), "ChargePeriodEnd": (False, "Date/Time"),
    "ChargePeriodStart": (False, "Date/Time"), "ContractedCost": (False, "Decimal"),
    "EffectiveCost": (False, "Decimal"), "InvoiceIssuerName": (False, "String"),
    "ListCost": (False, "Decimal"), "PricingQuantity": (True, "Decimal"),
    "PricingUnit": (True, "String"), "ProviderName": (False, "String"),
    "PublisherName": (False, "String"), "ServiceCategory": (False, "String"),
    "ServiceName": (False, "String"),
}
# Recommended and conditional columns the export also writes.
OPTIONAL = {
    "ChargeFrequency": (False, "String"), "ServiceSubcategory": (False, "String"),
    "ResourceId": (True, "String"), "ResourceName": (True, "String"),
    "ResourceType": (True, "String"), "RegionId": (True, "String"), "Tags": (True, "JSON"),
}
ALL_FOCUS_1_2 = {
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter",
    "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
}
CHARGE_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
CHARGE_FREQUENCIES = {"One-Time", "Recurring", "Usage-Based"}
SERVICE_CATEGORIES = {"AI and Machine Learning", "Analytics", "Business Applications",
                      "Compute", "Databases", "Developer Tools", "Multicloud", "Identity",
                      "Integration", "Internet of Things", "Management and Governance",
                      "Media", "Migration", "Mobile", "Networking", "Security", "Storage",
                      "Web", "Other"}
DECIMAL = re.compile(r"^-?(\d+(\.\d+)?|\.\d+)([eE]-?\d+)?$")  # no symbols, units or commas
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _valid(value: str, kind: str) -> bool:
    if kind == "Decimal":
        return bool(DECIMAL.match(value))
    if kind == "Date/Time":
        return bool(DATE_TIME.match(value))
    if kind == "JSON":
        parsed = json.loads(value)
        return isinstance(parsed, dict) and all(
            isinstance(v, str | int | float | bool) or v is None for v in parsed.values())
    return isinstance(value, str)


def validate_focus(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = list(frame.columns)
    for name, (nullable, kind) in {**MANDATORY, **OPTIONAL}.items():
        assert name in columns, f"missing FOCUS column {name}"
        values = frame[name]
        if not nullable:
            assert (values != "").all(), f"{name} is null somewhere"
        for value in values[values != ""].unique():
            assert _valid(value, kind), f"{name}: {value!r} is not {kind}"
    custom = [c for c in columns if c not in ALL_FOCUS_1_2]
    assert all(c.startswith("x_") for c in custom), custom
    assert columns[len(columns) - len(custom):] == custom, "x_ columns come last"
    assert set(frame["ChargeCategory"]) <= CHARGE_CATEGORIES
    assert set(frame["ChargeFrequency"]) <= CHARGE_FREQUENCIES
    assert set(frame["ServiceCategory"]) <= SERVICE_CATEGORIES
    assert (frame[frame["ServiceSubcategory"] == "Messaging"]["ServiceCategory"]
            == "Integration").all()
    assert frame["BillingCurrency"].map(lambda c: bool(CURRENCY.match(c))).all()
    # PricingUnit is null exactly when PricingQuantity is.
    assert ((frame["PricingQuantity"] == "") == (frame["PricingUnit"] == "")).all()
    starts, ends = (pd.to_datetime(frame[c]) for c in ("ChargePeriodStart", "ChargePeriodEnd"))
    assert (starts < ends).all()
    return frame


@pytest.mark.parametrize("bill", [None, "focus.csv", "confluent.csv"])
def test_the_focus_export_validates_and_adds_up_to_the_allocation(
        store: Store, tmp_path: Path, bill: str | None) -> None:
    settings = settings_for(store.url)
    if bill is not None:
        import_bill(store, settings, (SAMPLES / bill).read_bytes(), bill)
    allocation = reconcile(analyze_store(store, settings), store, settings, "2026-11")
    frame = validate_focus(write_focus_csv(allocation, tmp_path / "focus.csv"))
    assert len(frame) == len(allocation.rows)
    billed = sum(Decimal(v) for v in frame["BilledCost"])
    assert billed == Decimal(allocation.total_micros) / 1_000_000
    for cluster in allocation.clusters:
        mine = frame[frame["x_Cluster"] == cluster.cluster]
        assert sum(Decimal(v) for v in mine["BilledCost"]) * 1_000_000 == cluster.total_micros
        assert set(mine["x_Basis"]) == {cluster.basis}
        assert (mine["ResourceId"].str.startswith(f"{cluster.cluster}/")).all()
    tags = frame["Tags"].map(json.loads)
    assert all({"owner", "side"} <= set(t) for t in tags)
    assert (tags.map(lambda t: t["owner"]) == frame["x_Owner"]).all()
    assert set(frame["x_Side"]) <= {"producer", "consumer", "shared"}


def test_costopt_bill_import_and_export_focus(tmp_path: Path) -> None:
    store = seeded(sqlite_url(tmp_path / "costopt.db"))
    config = tmp_path / "costopt.yaml"
    config.write_text(json.dumps(settings_for(store.url).model_dump(mode="json")))
    run = [sys.executable, "-m", "jobs"]
    imported = subprocess.run([*run, "bill", "import", str(SAMPLES / "cur.csv"), "--format",
                               "cur", "--config", str(config)],
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert "2026-11 AWS 111122223333: 7 lines, 829.55 USD (stored)" in imported.stdout
    out = tmp_path / "november.csv"
    exported = subprocess.run([*run, "export", "focus", "--month", "2026-11", "--out",
                               str(out), "--config", str(config)],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    frame = validate_focus(out)
    assert set(frame.loc[frame["x_Cluster"] == "payments-self", "x_Basis"]) == {"billed"}
    refused = subprocess.run([*run, "export", "focus", "--month", "2026-13", "--out",
                              str(out), "--config", str(config)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "month must be YYYY-MM" in refused.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text((SAMPLES / "cur.csv").read_text().replace("80.00", "eighty"))
    refused = subprocess.run([*run, "bill", "import", str(bad), "--config", str(config)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "line 4, column line_item_unblended_cost: 'eighty' is not a number" in refused.stderr
