"""Reading a bill's CSV with pandas, and its values with the line and column of any that is
wrong: a refused file says exactly where to look."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation

import pandas as pd

from costopt.base.money import decimal_to_micros
from costopt.billing.lines import BillFormatError

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE]-?\d+)?$")


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BillFormatError(source, line, None, "not UTF-8 text") from None


def read_table(text: str, source: str) -> tuple[pd.DataFrame, list[int]]:
    """Every cell as text ('' for empty), and each record's line in the file (a quoted field
    may span lines)."""
    if not text.strip():
        raise BillFormatError(source, 1, None, "the file is empty")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = (int(g) for g in found.groups())
            raise BillFormatError(source, line, f"#{saw}",
                                  f"{saw} fields where the header has {expected}") from None
        raise BillFormatError(source, 1, None, f"not a CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = [c for c in frame.columns if re.search(r"\.\d+$", c)
                  and c.rsplit(".", 1)[0] in frame.columns]
    if duplicated:
        raise BillFormatError(source, 1, duplicated[0].rsplit(".", 1)[0],
                              "the column appears twice")
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text))
    end = 0
    try:
        for record in reader:
            if record:
                starts.append(end + 1)
            end = reader.line_num
    except csv.Error as exc:
        raise BillFormatError(source, end + 1, None, f"not a CSV file: {exc}") from None
    return frame, starts[1:1 + len(frame)]


def require(frame: pd.DataFrame, columns: list[str], source: str, what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise BillFormatError(source, 1, column, f"missing: a {what} file has this column")


def decimal_value(text: str, source: str, line: int, column: str) -> Decimal:
    """A number as the FOCUS numeric format allows it (no symbols, units or commas)."""
    value = text.strip()
    if not _NUMBER.match(value):
        raise BillFormatError(source, line, column, f"{text!r} is not a number")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise BillFormatError(source, line, column, f"{text!r} is not a number") from None


def micros(text: str, source: str, line: int, column: str) -> int:
    return decimal_to_micros(decimal_value(text, source, line, column))


def timestamps(values: pd.Series, source: str, lines: list[int], column: str,
               required: bool = True) -> pd.Series:
    """UTC timestamps of ISO 8601 text (`2026-11-01T00:00:00Z`, with or without seconds,
    fractions or an offset; a plain date counts as its midnight)."""
    cleaned = values.str.strip().str.replace(r"\s+UTC$", "", regex=True)
    parsed = pd.to_datetime(cleaned.where(cleaned != ""), utc=True, format="ISO8601",
                            errors="coerce")
    bad = parsed.isna() & ((cleaned != "") | required)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        shown = values.iloc[row]
        message = "is empty" if not str(shown).strip() else f"{shown!r} is not a date/time"
        raise BillFormatError(source, lines[row], column, message)
    return parsed
