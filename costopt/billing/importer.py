"""`costopt bill import FILE` and `POST /v1/bills`: read a bill file, find each line's
cluster, and store the month's bills, all or nothing.

The whole file is read and checked before anything is written: a malformed value anywhere
refuses the file with its line and column, and the store keeps what it had. Lines of other
services and of resources that are no known cluster's are left out and counted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from costopt.billing.csvfile import decode, read_table
from costopt.billing.formats import PARSERS, RawLine, detect
from costopt.billing.lines import FORMATS, BillFormatError, ParsedFile
from costopt.billing.mapping import ClusterMapper
from costopt.config import Settings
from costopt.records.bill import Bill
from costopt.store import Store
from costopt.store.bills import BillStore, SavedBill


def mapper_for(settings: Settings, known: Iterable[str]) -> ClusterMapper:
    return ClusterMapper.of({*known, *(c.name for c in settings.clusters)},
                            settings.billing.resources, settings.billing.cluster_tag_keys)


def parse_bill(data: bytes, source: str, mapper: ClusterMapper,
               format: str | None = None,
               kafka_services: str = r"(?i)kafka|confluent|\bmsk\b") -> ParsedFile:
    """The bills a file holds, one per provider, billing account and month."""
    if format is not None and format not in FORMATS:
        raise BillFormatError(source, 1, None,
                              f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    text = decode(data, source)
    frame, lines = read_table(text, source)
    chosen = format or detect(frame, source)
    parsed = PARSERS[chosen](frame, lines, source, mapper, re.compile(kafka_services))
    digest = hashlib.sha256(data).hexdigest()
    grouped: dict[tuple[str, str, str], list[RawLine]] = {}
    for raw in parsed.lines:
        grouped.setdefault((raw.provider, raw.account, raw.month), []).append(raw)
    bills = []
    for (provider, account, month), raws in sorted(grouped.items()):
        currency = raws[0].currency
        for raw in raws:
            if raw.currency != currency:
                raise BillFormatError(source, raw.line.line_number, None,
                                      f"{provider} bill of {month} in {raw.currency} here and "
                                      f"in {currency} on line {raws[0].line.line_number}: one "
                                      "bill has one currency")
        bills.append(Bill(provider, account, month, chosen, currency, source, digest,
                          tuple(raw.line for raw in raws)))
    return ParsedFile(chosen, tuple(bills), parsed.read, sum(parsed.skipped.values()),
                      parsed.skipped)


@dataclass(frozen=True)
class ImportResult:
    source: str
    format: str
    lines_read: int
    skipped: int
    skipped_reasons: dict[str, int]
    bills: list[SavedBill]

    @property
    def changed(self) -> bool:
        return any(bill.outcome != "unchanged" for bill in self.bills)


def import_bill(store: Store, settings: Settings, data: bytes, source: str,
                format: str | None = None) -> ImportResult:
    """Parse `data` and store its bills in one transaction (nothing stored if it is refused).
    """
    mapper = mapper_for(settings, store.clusters())
    parsed = parse_bill(data, source, mapper, format, settings.billing.unmapped_services)
    if not parsed.bills:
        raise BillFormatError(source, 1, None, f"no line of the file is Kafka's "
                              f"({parsed.lines_read} read, {parsed.skipped} left out: "
                              f"{parsed.skipped_reasons}); map resource ids to clusters "
                              "with billing.resources or tag them (billing.cluster_tag_keys)")
    saved = BillStore(store).save(parsed.bills)
    return ImportResult(source, parsed.format, parsed.lines_read, parsed.skipped,
                        parsed.skipped_reasons, saved)
