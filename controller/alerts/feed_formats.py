"""Reading a hotlist feed's file: CSV with a column map, or NCIC-style records.

An NCIC-style record carries field codes (DESIGN.md section 2, 462.3): LIC the
plate, LIS its state, LIT its type, LIY its year, NIC the NCIC number, ORI the
entering agency, OCA that agency's case number, VMA the vehicle's make and VCO
its colour. LIC, LIS, NIC and ORI fill the entry's own fields; the others are
kept in its alert note, which travels with every hit so that whoever verifies it
through CLETS sees the vehicle described. Each record is checked field by field
and then by the one row check every hotlist entry passes
(``hotlists.row_entry``); a bad record is rejected with its line number and the
reason, never raising, and only a file that cannot be a feed at all (a CSV whose
header lacks a mapped column) fails whole.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from controller.alerts.hotlists import MAX_LINE, row_entry
from controller.errors import FeedError
from controller.settings.feeds import (
    SKIP,
    CsvFormat,
    HotlistFeed,
    NcicDelimitedFormat,
    NcicFixedFormat,
)
from inference.plates import normalise

# Rejected lines kept with their number and reason (the count is always whole).
MAX_REPORTED = 100
# A reason quotes at most this much of the bad value, and is at most REASON long.
QUOTE = 24
REASON = 200

CODE_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "LIC": (re.compile(r"[A-Z0-9]{1,10}"), "1-10 letters and digits"),
    "LIS": (re.compile(r"[A-Z]{2}"), "a two-letter state code"),
    "LIT": (re.compile(r"[A-Z]{2}"), "a two-letter plate type code"),
    "LIY": (re.compile(r"[0-9]{4}|NX"), "a four-digit year or NX"),
    "NIC": (re.compile(r"[A-Z][0-9]{9}"), "a letter and nine digits"),
    "ORI": (re.compile(r"[A-Z]{2}[A-Z0-9]{7}"), "nine characters, a state code first"),
    "OCA": (re.compile(r"[A-Z0-9][A-Z0-9 ./-]{0,19}"), "1-20 letters, digits, ' ./-'"),
    "VMA": (re.compile(r"[A-Z0-9]{2,4}"), "a make code of 2-4 letters and digits"),
    "VCO": (re.compile(r"[A-Z]{3}(/[A-Z]{3})?"), "a colour code (BLK or BLK/WHI)"),
}
# Control characters but the tab, which no record holds (NUL included).
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The codes kept in the alert note, in this order.
NOTE_CODES = ("LIT", "LIY", "VMA", "VCO", "OCA")


@dataclass(frozen=True)
class NcicRecord:
    """One NCIC-style record, each field checked (None: the record leaves it blank)."""

    lic: str
    lis: str | None = None
    lit: str | None = None
    liy: str | None = None
    nic: str | None = None
    ori: str | None = None
    oca: str | None = None
    vma: str | None = None
    vco: str | None = None

    def note(self) -> str | None:
        """The alert note: the codes that have no field of their own, with their values."""
        parts = [f"{code} {getattr(self, code.lower())}" for code in NOTE_CODES
                 if getattr(self, code.lower())]
        return "; ".join(parts) or None


@dataclass
class FeedParse:
    """What a feed's file held: its entries, and the lines rejected (numbered)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, number: int, reason: str) -> None:
        """Count a rejected line; keep its number and reason while under the bound."""
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append((number, reason[:REASON]))

    @property
    def records(self) -> int:
        """Records read, accepted or not."""
        return len(self.entries) + self.rejected_count


def _quote(value: str) -> str:
    shown = value if len(value) <= QUOTE else value[:QUOTE] + "..."
    return repr(shown)


def ncic_record(values: dict[str, str]) -> NcicRecord:
    """Check the raw value of each code (ValueError naming the code and why)."""
    checked: dict[str, str | None] = {}
    for code, raw in values.items():
        text = raw.strip().upper()
        if code == "LIC":
            text = normalise(text, typed=True)
        if not text:
            checked[code.lower()] = None
            continue
        pattern, expected = CODE_RULES[code]
        if not pattern.fullmatch(text):
            raise ValueError(f"{code} {_quote(raw.strip())} is not {expected}")
        checked[code.lower()] = text
    if not checked.get("lic"):
        raise ValueError("LIC (the plate) is blank")
    return NcicRecord(**checked)  # type: ignore[arg-type]


def ncic_entry(record: NcicRecord, category: str, today: date) -> dict[str, Any]:
    """The hotlist entry an NCIC record makes (the one row check every entry passes)."""
    cells = {"plate": record.lic, "state": record.lis or "", "ncic_number": record.nic or "",
             "ori": record.ori or "", "alert_note": record.note() or ""}
    return row_entry(cells, category, today)


def fixed_values(line: str, fmt: NcicFixedFormat) -> dict[str, str]:
    """Cut a fixed-width record into its fields (ValueError if its length is wrong)."""
    if len(line) != fmt.length():
        raise ValueError(f"{len(line)} characters where a record has {fmt.length()}")
    return {f.code: line[f.start - 1:f.start - 1 + f.width] for f in fmt.fields}


def delimited_values(line: str, fmt: NcicDelimitedFormat) -> dict[str, str]:
    """Split a delimited record into its fields (ValueError if the count is wrong)."""
    cells = line.split(fmt.delimiter)
    if len(cells) != len(fmt.fields):
        raise ValueError(f"{len(cells)} fields where a record has {len(fmt.fields)}")
    return {code: cell for code, cell in zip(fmt.fields, cells, strict=True) if code != SKIP}


def _lines(data: bytes) -> list[tuple[int, str | None, str]]:
    """(number, text or None, why not) of every non-blank line; bad bytes name the line."""
    found: list[tuple[int, str | None, str]] = []
    chunks = data.split(b"\n")
    if chunks and chunks[0].startswith(b"\xef\xbb\xbf"):
        chunks[0] = chunks[0][3:]
    for number, chunk in enumerate(chunks, start=1):
        raw = chunk.removesuffix(b"\r")
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE:
            found.append((number, None, f"longer than {MAX_LINE} characters"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            found.append((number, None, f"not UTF-8 text (byte {exc.start + 1})"))
            continue
        if CONTROL.search(text):
            found.append((number, None, "contains control characters"))
            continue
        found.append((number, text, ""))
    return found


def _csv_cells(text: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True), [])


def _csv_columns(fmt: CsvFormat, header: list[str] | None) -> dict[str, int]:
    """Entry field -> column index, from the header row or the column numbers."""
    if header is None:
        return {name: int(column) - 1 for column, name in fmt.columns.items()}
    seen = {cell.strip().lower(): i for i, cell in enumerate(header)}
    columns = {}
    for column, name in fmt.columns.items():
        if column.strip().lower() not in seen:
            raise FeedError("malformed", f"the header row has no column {column!r} "
                                         f"(it has {', '.join(h.strip() for h in header)})"[:300])
        columns[name] = seen[column.strip().lower()]
    return columns


def _parse_csv(lines: list[tuple[int, str | None, str]], feed: HotlistFeed, fmt: CsvFormat,
               today: date, result: FeedParse) -> None:
    columns: dict[str, int] | None = None if fmt.header else _csv_columns(fmt, None)
    width = None
    for number, text, why in lines:
        if text is None:
            result.reject(number, why)
            continue
        try:
            cells = _csv_cells(text, fmt.delimiter)
        except csv.Error as exc:
            result.reject(number, f"not a CSV row ({exc})")
            continue
        if columns is None:
            columns, width = _csv_columns(fmt, cells), len(cells)
            continue
        try:
            if width is not None and len(cells) != width:
                raise ValueError(f"{len(cells)} fields where the header has {width}")
            if len(cells) <= max(columns.values()):
                raise ValueError(f"{len(cells)} fields where column {max(columns.values()) + 1}"
                                 " is mapped")
            named = {name: cells[i] for name, i in columns.items()}
            result.entries.append(row_entry(named, feed.category, today))
        except ValueError as exc:
            result.reject(number, str(exc))
    if columns is None:
        raise FeedError("malformed", "the file is empty: no header row")


def parse_feed(data: bytes, feed: HotlistFeed, today: date) -> FeedParse:
    """Read a feed's file into entries; each bad line is rejected with its number and why.

    Raises ``FeedError`` only for a file that cannot be this feed at all.
    """
    result = FeedParse()
    lines = _lines(data)
    fmt = feed.format
    if isinstance(fmt, CsvFormat):
        _parse_csv(lines, feed, fmt, today, result)
        return result
    for number, text, why in lines:
        if text is None:
            result.reject(number, why)
            continue
        try:
            values = (fixed_values(text, fmt) if isinstance(fmt, NcicFixedFormat)
                      else delimited_values(text, fmt))
            result.entries.append(ncic_entry(ncic_record(values), feed.category, today))
        except ValueError as exc:
            result.reject(number, str(exc))
    return result
