"""Bill import: each format's sample file read line by line into the store (SQLite and
PostgreSQL), idempotently; a malformed file refused with its line and column, nothing stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costopt.billing.importer import import_bill
from costopt.billing.lines import BillFormatError
from costopt.store import Store
from costopt.store.bills import BillStore
from tests.billing.conftest import SAMPLES, settings_for


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def lines_of(store: Store) -> list[tuple[int, str | None, str, str, Decimal]]:
    frame = BillStore(store).lines("2026-11")
    return [(int(r.line_number), r.cluster, r.target, r.category,
             Decimal(int(r.amount_micros)) / 1_000_000) for r in frame.itertuples(index=False)]


def test_focus_lines_find_their_cluster_and_component(store: Store) -> None:
    result = import_bill(store, settings_for(store.url), sample("focus.csv"), "focus.csv")
    assert result.format == "focus" and result.lines_read == 7
    assert result.skipped_reasons == {"another resource": 1, "another service": 1}
    [bill] = result.bills
    assert (bill.provider, bill.account, bill.month, bill.outcome) == (
        "AWS", "111122223333", "2026-11", "stored")
    assert bill.total_micros == 617_450_000 and bill.currency == "USD"
    assert lines_of(store) == [
        (2, "orders-prod", "compute", "usage", Decimal("459.9")),  # by its MSK ARN
        (3, "orders-prod", "storage_local", "usage", Decimal("120")),
        (4, "orders-prod", "network", "usage", Decimal("35.25")),  # by its user: tag
        (5, None, "other", "tax", Decimal("12.3")),  # no resource: MSK's, unattributed
        (6, "orders-prod", "other", "credit", Decimal("-10")),
    ]


def test_cur_lines_of_msk_and_of_self_managed_brokers(store: Store) -> None:
    result = import_bill(store, settings_for(store.url), sample("cur.csv"), "cur.csv")
    assert result.format == "cur" and result.lines_read == 9
    assert result.skipped_reasons == {"another resource": 2}
    [bill] = result.bills
    assert bill.total_micros == 829_552_000
    assert lines_of(store) == [
        (2, "payments-self", "compute", "usage", Decimal("63.072")),  # net of discounts
        (3, "payments-self", "compute", "usage", Decimal("70.08")),  # billing.resources
        (4, "payments-self", "storage_local", "usage", Decimal("80")),
        (5, "payments-self", "network", "usage", Decimal("25")),  # by user_ tag
        (6, "orders-prod", "compute", "usage", Decimal("459.9")),
        (7, "orders-prod", "storage_local", "usage", Decimal("120")),
        (8, None, "other", "tax", Decimal("11.5")),
    ]


def test_confluent_lines_keep_the_platform_spend_unattributed(store: Store) -> None:
    result = import_bill(store, settings_for(store.url), sample("confluent.csv"),
                         "confluent.csv")
    assert result.format == "confluent" and result.skipped_reasons == {
        "another Kafka cluster": 1}
    [bill] = result.bills
    assert (bill.provider, bill.month, bill.total_micros) == ("Confluent", "2026-11",
                                                              94_030_000)
    assert lines_of(store) == [
        (2, "events-cc", "compute", "usage", Decimal("36")),
        (3, "events-cc", "storage", "usage", Decimal("2.4")),  # local and tiered
        (4, "events-cc", "network_producer", "usage", Decimal("4.5")),  # after discount
        (5, "events-cc", "network_consumer", "usage", Decimal("9")),
        (6, "events-cc", "partitions", "usage", Decimal("0.72")),
        (7, "events-cc", "compute", "usage", Decimal("36")),
        (8, None, "other", "other", Decimal("4.08")),  # a connector
        (9, None, "other", "support", Decimal("3.33")),
        (10, None, "other", "credit", Decimal("-2")),
    ]


def test_importing_the_same_file_twice_changes_nothing(store: Store) -> None:
    settings = settings_for(store.url)
    first = import_bill(store, settings, sample("focus.csv"), "focus.csv")
    stored = BillStore(store).bills()
    again = import_bill(store, settings, sample("focus.csv"), "focus.csv")
    assert first.changed and not again.changed
    assert [b.outcome for b in again.bills] == ["unchanged"]
    assert BillStore(store).bills() == stored
    assert len(BillStore(store).lines("2026-11")) == 5


def test_a_newer_export_of_the_month_replaces_it_whole(store: Store) -> None:
    settings = settings_for(store.url)
    import_bill(store, settings, sample("focus.csv"), "focus.csv")
    text = sample("focus.csv").decode().replace("459.90,459.90", "500.00,500.00", 1)
    result = import_bill(store, settings, text.encode(), "focus-rerun.csv")
    assert [b.outcome for b in result.bills] == ["replaced"]
    [bill] = BillStore(store).bills()
    assert bill["total_micros"] == 657_550_000 and bill["source_name"] == "focus-rerun.csv"
    assert len(BillStore(store).lines("2026-11")) == 5


def _edit(name: str, line: int, old: str, new: str) -> bytes:
    rows = (SAMPLES / name).read_text().splitlines()
    assert old in rows[line - 1], (name, line, old)
    rows[line - 1] = rows[line - 1].replace(old, new, 1)
    return ("\n".join(rows) + "\n").encode()


MALFORMED = [
    ("focus.csv", 3, "120.00,120.00", "12O.00,120.00", "line 3, column BilledCost"),
    ("focus.csv", 4, "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,Usage",
     "yesterday,2026-12-01T00:00:00Z,Usage", "line 4, column ChargePeriodStart"),
    ("focus.csv", 2, '"{""user:kafka_cluster"":""orders-prod""}"', '"{not json"',
     "line 2, column Tags"),
    ("focus.csv", 6, ",Credit,", ",Refund,", "line 6, column ChargeCategory"),
    ("focus.csv", 5, "USD", "usd", "line 5, column BillingCurrency"),
    ("focus.csv", 1, "BillingCurrency,", "Currency,", "line 1, column BillingCurrency"),
    ("focus.csv", 7, "Hours,", "Hours,,extra,", "line 7, column #"),
    ("cur.csv", 3, "70.08,,", "$70.08,,", "line 3, column line_item_unblended_cost"),
    ("cur.csv", 4, "USD,0.08", "US Dollars,0.08", "line 4, column line_item_currency_code"),
    ("cur.csv", 8, "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,AmazonMSK,,",
     ",2026-12-01T00:00:00Z,AmazonMSK,,", "line 8, column line_item_usage_start_date"),
    ("confluent.csv", 5, "$9.00", "9.00.1", "line 5, column amount"),
    ("confluent.csv", 6, "2026-11-01", "2026-13-01", "line 6, column start_date"),
    ("confluent.csv", 1, ",amount", ",total", "line 1: not a FOCUS 1.x"),
]


@pytest.mark.parametrize("name,line,old,new,where", MALFORMED)
def test_a_malformed_file_is_refused_naming_line_and_column_and_nothing_is_stored(
        store: Store, name: str, line: int, old: str, new: str, where: str) -> None:
    settings = settings_for(store.url)
    import_bill(store, settings, sample("confluent.csv" if name != "confluent.csv"
                                        else "focus.csv"), "before.csv")
    before = (BillStore(store).bills(), BillStore(store).lines("2026-11"))
    with pytest.raises(BillFormatError) as refused:
        import_bill(store, settings, _edit(name, line, old, new), name)
    assert f"{name}: {where}" in str(refused.value)
    after = (BillStore(store).bills(), BillStore(store).lines("2026-11"))
    assert after[0] == before[0] and after[1].equals(before[1])


@pytest.mark.parametrize("data,message", [
    (b"", "line 1: the file is empty"),
    (b"BilledCost\n\xff\xfe\n", "line 2: not UTF-8 text"),
    (b"lineItem/UnblendedCost,lineItem/UsageType\n1,x\n",
     "line 1, column lineItem/UnblendedCost: a legacy CUR file"),
])
def test_files_that_are_no_bill_are_refused(store: Store, data: bytes, message: str) -> None:
    with pytest.raises(BillFormatError, match=message):
        import_bill(store, settings_for(store.url), data, "x.csv")
    assert BillStore(store).bills() == []


def test_a_file_with_no_kafka_line_is_refused(store: Store) -> None:
    rows = (SAMPLES / "focus.csv").read_text().splitlines()
    only_web = "\n".join([rows[0], rows[6], rows[7]]) + "\n"
    with pytest.raises(BillFormatError, match="no line of the file is Kafka's"):
        import_bill(store, settings_for(store.url), only_web.encode(), "web.csv")
    assert BillStore(store).bills() == []


def test_migration_0007_goes_down_and_up(store: Store) -> None:
    import_bill(store, settings_for(store.url), sample("focus.csv"), "focus.csv")
    store.downgrade("0006")
    from sqlalchemy import inspect

    assert "bills" not in inspect(store.engine).get_table_names()
    store.migrate("head")
    assert BillStore(store).bills() == []
    import_bill(store, settings_for(store.url), sample("focus.csv"), "focus.csv")
    assert len(BillStore(store).bills()) == 1
