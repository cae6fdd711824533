"""Hotlists (policy 462.3, 462.7): import CSV/TXT files, validate every row, swap atomically.

A file may have a header naming its columns (synonyms such as "LIC", "TAG" or
"NCIC#" are understood) or follow the configured column map. The delimiter is
detected among ``,`` ``;`` ``:`` and tab. Each bad row is reported with its line
number and the reason; depending on ``hotlists.on_bad_row`` the import then goes
through without those rows or is refused whole, and the active list is untouched.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize, record
from controller.errors import ValidationError
from controller.settings.hotlists import FIELDS, HotlistSettings
from controller.store import Engine
from controller.store import hotlists as repo
from controller.store.records import HotlistEntryRow, HotlistRow
from controller.store.schema import HOTLIST_CATEGORIES
from controller.validation import parse_time, required_text
from inference.plates import normalise

DELIMITERS = (",", ";", "\t", ":")
PLATE = re.compile(r"^[A-Z0-9?*]{1,10}$")
STATE = re.compile(r"^[A-Z]{2}$")
MAX_BYTES = 256 * 1024 * 1024
# A row of every field at its bound is under 1 KiB; a longer line is refused before
# the csv module (whose own 128 KiB field limit raised a 500) reads it.
MAX_LINE = 4096
# The stored width of each free-text field (controller/store/schema/core.py).
FIELD_LIMITS = {"reason": 300, "ncic_number": 32, "ori": 16, "alert_note": 500}
LIST_NAME_LIMIT = 128

HEADER_SYNONYMS: dict[str, str] = {
    **{name: name for name in FIELDS},
    "lic": "plate", "license": "plate", "licence": "plate", "plate_number": "plate",
    "plate_no": "plate", "tag": "plate", "lpn": "plate", "vrm": "plate",
    "st": "state", "lic_state": "state", "plate_state": "state", "lis": "state",
    "type": "category", "cat": "category", "list_type": "category",
    "reason_code": "reason", "description": "reason",
    "ncic": "ncic_number", "ncic_no": "ncic_number", "ncic#": "ncic_number", "nic": "ncic_number",
    "agency_ori": "ori", "entry_date": "entered", "date_entered": "entered",
    "expiry": "expires", "expiration": "expires", "expires_on": "expires",
    "expiry_date": "expires", "note": "alert_note", "notes": "alert_note", "alert": "alert_note",
    "remarks": "alert_note",
}

CATEGORY_SYNONYMS: dict[str, str] = {
    **{c: c for c in HOTLIST_CATEGORIES},
    "stolen": "stolen_vehicle", "sv": "stolen_vehicle", "veh": "stolen_vehicle",
    "stolen_veh": "stolen_vehicle", "vehicle": "stolen_vehicle",
    "sp": "stolen_plate", "lic": "stolen_plate", "plate": "stolen_plate",
    "stolen_license_plate": "stolen_plate",
    "wanted": "wanted_warrant", "warrant": "wanted_warrant", "felony_vehicle": "wanted_warrant",
    "wanted_person": "wanted_warrant", "missing": "missing_person", "amber": "missing_person",
    "silver": "missing_person", "amber_alert": "missing_person",
    "homeland": "homeland_security", "terrorist": "homeland_security",
    "tsc": "homeland_security", "suspect": "suspect_interdiction",
    "interdiction": "suspect_interdiction", "property": "stolen_property",
    "partial": "partial_plate", "major_incident": "partial_plate",
}


@dataclass
class ParseResult:
    """Rows that passed and (line, reason) for each row that did not."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts, rejected rows, and whether it was refused whole."""

    list_name: str
    imported: int
    rejected: list[tuple[int, str]]
    refused: bool
    version: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's --json)."""
        return {"list": self.list_name, "imported": self.imported, "refused": self.refused,
                "version": self.version,
                "rejected": [{"line": n, "reason": r} for n, r in self.rejected]}


def _key(text: str) -> str:
    return re.sub(r"[\s\-./]+", "_", text.strip().lower()).strip("_")


def _delimiter(lines: list[str]) -> str | None:
    sample = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")][:20]
    best, best_count = None, 0
    for candidate in DELIMITERS:
        counts = {ln.count(candidate) for ln in sample}
        # A real delimiter appears the same number of times on every row.
        if len(counts) == 1 and (n := counts.pop()) > best_count:
            best, best_count = candidate, n
    if best is None and sample:
        # Ragged file: trust the first row; bad rows are then reported one by one.
        first = {c: sample[0].count(c) for c in DELIMITERS}
        top = max(DELIMITERS, key=lambda c: first[c])
        best = top if first[top] else None
    return best


def _date(value: str, column: str) -> datetime:
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%m/%d/%y", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC)
    raise ValueError(f"{column} '{value}' is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _row(cells: Mapping[str, str], rules: HotlistSettings, today: date) -> dict[str, Any]:
    plate = normalise(cells.get("plate", ""), typed=True)
    if not plate:
        raise ValueError("plate is empty")
    if not PLATE.match(plate):
        raise ValueError(f"plate '{plate}' may only use A-Z, 0-9, '?' and '*' (10 at most)")
    partial = "?" in plate or "*" in plate
    if partial and not plate.strip("*?"):
        raise ValueError("a partial plate needs at least one known character")
    raw_category = _key(cells.get("category", "")) or _key(rules.default_category)
    category = CATEGORY_SYNONYMS.get(raw_category)
    if category is None:
        raise ValueError(f"category '{cells.get('category')}' is not one of the policy's "
                         f"purposes ({', '.join(HOTLIST_CATEGORIES)})")
    state = cells.get("state", "").strip().upper() or None
    if state is not None and not STATE.match(state):
        raise ValueError(f"state '{state}' is not a two-letter code")
    entered = _date(cells["entered"], "entered") if cells.get("entered", "").strip() else None
    expires = _date(cells["expires"], "expires") if cells.get("expires", "").strip() else None
    if expires is not None:
        # An expiry date means "valid through that day".
        expires = datetime.combine(expires.date(), time.max, tzinfo=UTC)
        if expires.date() < today:
            raise ValueError(f"expired on {expires.date().isoformat()}")
    if partial:
        if expires is None:
            raise ValueError("a partial plate (major incident) needs an expiry date")
        category = "partial_plate"
    text = {name: cells.get(name, "").strip() for name in FIELD_LIMITS}
    for name, limit in FIELD_LIMITS.items():
        if len(text[name]) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    return {"plate": plate, "is_partial": partial, "plate_state": state, "category": category,
            "reason": text["reason"] or None, "ncic_number": text["ncic_number"] or None,
            "ori": text["ori"].upper() or None, "entered_at": entered, "expires_at": expires,
            "alert_note": text["alert_note"] or None}


def parse_hotlist(data: bytes | str, rules: HotlistSettings, *,
                  today: date | None = None) -> ParseResult:
    """Parse a hotlist file; never raises for a bad row, only for a file that is not text."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("file", f"not UTF-8 text (byte {exc.start})") from None
    today = today or datetime.now(UTC).date()
    lines = data.splitlines()
    delimiter = _delimiter(lines)
    result = ParseResult()
    columns: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\x00" in line:
            result.rejected.append((number, "contains a NUL byte"))
            continue
        if len(line) > MAX_LINE:
            result.rejected.append((number, f"longer than {MAX_LINE} characters"))
            continue
        try:
            cells = (next(csv.reader(io.StringIO(line), delimiter=delimiter)) if delimiter
                     else [line])
        except csv.Error as exc:
            result.rejected.append((number, f"not a CSV row ({exc})"))
            continue
        if columns is None:
            names = [HEADER_SYNONYMS.get(_key(c), "") for c in cells]
            if "plate" in names:
                columns = names
                continue
            columns = list(rules.column_map)
        if len(cells) > len(columns):
            result.rejected.append((number, f"{len(cells)} fields where {len(columns)} "
                                            "columns are expected"))
            continue
        named = {name: value for name, value in zip(columns, cells, strict=False) if name}
        try:
            result.entries.append(_row(named, rules, today))
        except ValueError as exc:
            result.rejected.append((number, str(exc)))
    return result


def import_hotlist(engine: Engine, rules: HotlistSettings, source: bytes | Path, list_name: str,
                   *, actor: str, client_addr: str | None = None) -> ImportReport:
    """Parse ``source`` and make it the active version of ``list_name`` (audited)."""
    if not list_name.strip() or len(list_name) > LIST_NAME_LIMIT:
        raise ValidationError("list_name", f"a list name of 1-{LIST_NAME_LIMIT} characters "
                                           "is required")
    origin = str(source) if isinstance(source, Path) else None
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > MAX_BYTES:
        raise ValidationError("file", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    parsed = parse_hotlist(data, rules)
    refused = bool(parsed.rejected) and rules.on_bad_row == "refuse"
    if not parsed.entries and not refused:
        refused = True
        parsed.rejected.append((0, "no valid rows: the active list is kept"))
    version = None
    if not refused:
        version = repo.replace_entries(engine, list_name, parsed.entries, actor=actor,
                                       now=datetime.now(UTC), source=origin)
    report = ImportReport(list_name, 0 if refused else len(parsed.entries),
                          parsed.rejected, refused, version)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hotlist.import", outcome="denied" if refused else "allowed",
        client_addr=client_addr,
        data={"list": list_name, "imported": report.imported, "version": version,
              "rejected": len(parsed.rejected), "first_rejected": parsed.rejected[:5]}))
    return report


def add_partial_entry(engine: Engine, list_name: str, pattern: str, *, expires_at: datetime,
                      reason: str, actor: str, state: str | None = None,
                      client_addr: str | None = None) -> int:
    """Enter a partial plate from a major incident (462.7(4)) with its expiry (audited)."""
    plate = normalise(pattern, typed=True)
    if not PLATE.match(plate) or not plate.strip("*?") or not ("?" in plate or "*" in plate):
        raise ValidationError("pattern", "a partial plate uses A-Z, 0-9 and at least one "
                                         "'?' (one character) or '*' (any run)")
    if expires_at <= datetime.now(UTC):
        raise ValidationError("expires_at", "the expiry must be in the future")
    if not reason.strip():
        raise ValidationError("reason", "say which incident the partial plate belongs to")
    reason = required_text("reason", reason, FIELD_LIMITS["reason"])
    if not list_name.strip() or len(list_name) > LIST_NAME_LIMIT:
        raise ValidationError("list_name", f"a list name of 1-{LIST_NAME_LIMIT} characters "
                                           "is required")
    if state is not None and not STATE.match(state):
        raise ValidationError("state", "a state is a two-letter code")
    entry_id = repo.add_entry(engine, list_name, {
        "plate": plate, "is_partial": True, "plate_state": state, "category": "partial_plate",
        "reason": reason, "expires_at": expires_at, "entered_at": datetime.now(UTC),
    }, actor=actor, now=datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hotlist.partial.add", plate=plate, client_addr=client_addr,
        data={"list": list_name, "entry_id": entry_id, "expires_at": expires_at.isoformat(),
              "reason": reason}))
    return entry_id


list_hotlists = repo.list_hotlists
list_entries = repo.list_entries


# --- use cases: what the web, the API and the CLI offer, role and training checked ---

VIEW = "hotlists.view"
MANAGE = "hotlists.manage"


def overview(engine: Engine, caller: Caller) -> list[HotlistRow]:
    """Every list with its size and last update (``hotlists.view``)."""
    authorize(engine, caller, VIEW, "hotlist.list")
    return list_hotlists(engine)


def view_list(engine: Engine, caller: Caller, list_name: str,
              limit: int) -> list[HotlistEntryRow]:
    """The active entries of one list (``hotlists.view``); audited as ``hotlist.view``."""
    authorize(engine, caller, VIEW, "hotlist.view", data={"list": list_name})
    rows = list_entries(engine, list_name, limit)
    record(engine, caller, "hotlist.view", data={"list": list_name, "entries_shown": len(rows)})
    return rows


def upload_list(engine: Engine, rules: HotlistSettings, caller: Caller, list_name: str,
                data: bytes | None) -> ImportReport:
    """Import an uploaded file as the new active version of a list (``hotlists.manage``)."""
    authorize(engine, caller, MANAGE, "hotlist.import", data={"list": list_name})
    if data is None:
        raise ValidationError("file", "choose a hotlist file to upload")
    return import_hotlist(engine, rules, data, list_name.strip(), **caller.who())


def enter_partial(engine: Engine, caller: Caller, *, list_name: str, pattern: str,
                  expires_at: str, reason: str, state: str = "") -> int:
    """Enter a partial plate from a major incident with its expiry (``hotlists.manage``)."""
    authorize(engine, caller, MANAGE, "hotlist.partial.add", data={"list": list_name})
    expires = parse_time("expires_at", expires_at)
    if expires is None:
        raise ValidationError("expires_at", "a partial plate needs an expiry")
    if not list_name.strip():
        raise ValidationError("list_name", "name the list the entry goes on")
    return add_partial_entry(engine, list_name.strip(), pattern, expires_at=expires,
                             reason=reason, state=state.strip().upper() or None,
                             **caller.who())
