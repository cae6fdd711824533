"""Hotlists (policy 462.3, 462.7, 462.7.1(2)(3)): import, govern, keep every version.

A file may have a header naming its columns (synonyms such as "LIC", "TAG" or
"NCIC#" are understood) or follow the configured column map. The delimiter is
detected among ``,`` ``;`` ``:`` and tab. Each bad row is reported with its line
number and the reason; depending on ``hotlists.on_bad_row`` the import then goes
through without those rows or is refused whole, and the active list is untouched.

Every import is a new version; the versions it replaces are kept, with their
entries, until the retention purge (462.8). A list named as an official feed in
the settings (``hotlists.official_feeds``, or a scheduled source) is in force at
once. Any other list is entered by hand: it needs a case number, a reason and an
expiry, and raises no hit until an administrator other than the person who
entered it approves it (462.7.1(2)(3)). Matching a listed plate against past
reads ("historical hits") is a search: asked for with a purpose and a case
number, approved by another administrator, and audited as ``search.historical``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize, purpose, record, roles
from controller.alerts.matching import HotlistMatcher
from controller.errors import AccessDenied, ValidationError
from controller.settings import Settings
from controller.settings.hotlists import FIELDS, HotlistSettings
from controller.store import Engine
from controller.store import hotlists as repo
from controller.store import reads as read_repo
from controller.store.records import (
    DescribedRead,
    HistoricalRequestRow,
    HotlistEntryRow,
    HotlistRow,
    HotlistVersionRow,
    PlateHistoryEntry,
    PlateHistoryHit,
)
from controller.store.schema import HOTLIST_CATEGORIES
from controller.validation import optional_text, parse_time, record_id, required_text
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
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$")
# An import's audit entry names the plates themselves when the version is this small;
# a larger one is named by its version id and digest (the entries stay in the version).
AUDIT_PLATES = 50
ENTRY_FIELDS = ("plate", "is_partial", "plate_state", "category", "reason", "ncic_number",
                "ori", "entered_at", "expires_at", "alert_note")

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
    version_id: int | None = None
    official: bool = True
    status: str | None = None
    digest: str | None = None

    @property
    def pending(self) -> bool:
        """The version waits for an administrator's approval before it raises hits."""
        return self.status == "pending"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's --json)."""
        return {"list": self.list_name, "imported": self.imported, "refused": self.refused,
                "version": self.version, "version_id": self.version_id,
                "official": self.official, "status": self.status, "digest": self.digest,
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


def row_entry(cells: Mapping[str, str], default_category: str, today: date) -> dict[str, Any]:
    """Check one row's named cells and return the entry they make (ValueError: why not).

    Every way into a hotlist (an uploaded file, a feed) goes through this one check.
    """
    plate = normalise(cells.get("plate", ""), typed=True)
    if not plate:
        raise ValueError("plate is empty")
    if not PLATE.match(plate):
        raise ValueError(f"plate '{plate}' may only use A-Z, 0-9, '?' and '*' (10 at most)")
    partial = "?" in plate or "*" in plate
    if partial and not plate.strip("*?"):
        raise ValueError("a partial plate needs at least one known character")
    raw_category = _key(cells.get("category", "")) or _key(default_category)
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
            result.entries.append(row_entry(named, rules.default_category, today))
        except ValueError as exc:
            result.rejected.append((number, str(exc)))
    return result


def entries_digest(entries: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 over the entries' fields, one canonical JSON line each, lines sorted.

    The order of the file does not matter; the same entries always give the same
    digest, so an auditor can recompute it from the version's stored entries.
    """
    lines = sorted(json.dumps({f: entry.get(f) for f in ENTRY_FIELDS}, sort_keys=True,
                              separators=(",", ":"), default=_iso) for entry in entries)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


@dataclass(frozen=True)
class HandList:
    """What a list entered by hand states: the case, why, and until when (462.7.1(2)(3))."""

    case_number: str
    reason: str
    expires_at: datetime


def hand_list_terms(case_number: str | None, reason: str | None,
                    expires_at: datetime | str | None, *,
                    now: datetime | None = None) -> HandList:
    """Check a hand-entered list's case number, reason and expiry; name the bad field."""
    now = now or datetime.now(UTC)
    case = (case_number or "").strip()
    if not case:
        raise ValidationError("case_number", "a list entered by hand needs a case number "
                                             "(only an official feed imports without one)")
    if not CASE_NUMBER.match(case):
        raise ValidationError("case_number", "use letters, digits, spaces and . / _ - only "
                                             "(64 at most)")
    if not (reason or "").strip():
        raise ValidationError("reason", "a list entered by hand needs a reason")
    why = required_text("reason", reason or "", FIELD_LIMITS["reason"])
    expires = parse_time("expires_at", expires_at) if isinstance(expires_at, str) \
        else expires_at
    if expires is None:
        raise ValidationError("expires_at", "a list entered by hand needs an expiry")
    if expires <= now:
        raise ValidationError("expires_at", "the expiry must be in the future")
    return HandList(case, why, expires)


def _check_name(list_name: str) -> str:
    name = list_name.strip()
    if not name or len(name) > LIST_NAME_LIMIT:
        raise ValidationError("list_name", f"a list name of 1-{LIST_NAME_LIMIT} characters "
                                           "is required")
    return name


def _store_version(engine: Engine, name: str, entries: list[dict[str, Any]], *,
                   official: bool, terms: HandList | None, actor: str,
                   source: str | None) -> HotlistVersionRow:
    return repo.add_version(
        engine, name, entries, actor=actor, now=datetime.now(UTC), official=official,
        digest=entries_digest(entries), source=source,
        case_number=terms.case_number if terms else None,
        reason=terms.reason if terms else None,
        expires_at=terms.expires_at if terms else None)


def _version_audit(version: HotlistVersionRow, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """What an import's audit entry says about the version it stored."""
    data: dict[str, Any] = {
        "version": version["version"], "version_id": version["id"],
        "official": version["official"], "status": version["status"],
        "digest": version["digest"], "entries": len(entries)}
    if not version["official"]:
        data["expires_at"] = version["expires_at"]
    if len(entries) <= AUDIT_PLATES:
        data["plates"] = sorted(str(e["plate"]) for e in entries)
    return data


def store_official(engine: Engine, name: str, entries: list[dict[str, Any]], *, actor: str,
                   source: str) -> tuple[HotlistVersionRow, dict[str, Any]]:
    """Store ``entries`` as the version in force of an official list (a feed's fetch).

    Returns the version and what its audit entry says about it (the caller writes
    that entry and links it with ``link_audit``).
    """
    version = _store_version(engine, _check_name(name), entries, official=True, terms=None,
                             actor=actor, source=source)
    return version, _version_audit(version, entries)


link_audit = repo.set_import_event


def import_hotlist(engine: Engine, rules: HotlistSettings, source: bytes | Path, list_name: str,
                   *, actor: str, client_addr: str | None = None,
                   case_number: str | None = None, reason: str | None = None,
                   expires_at: datetime | str | None = None) -> ImportReport:
    """Parse ``source`` and store it as a new version of ``list_name`` (audited).

    An official feed's version is in force at once. Any other list is entered by
    hand: ``case_number``, ``reason`` and ``expires_at`` are required, and the
    version is stored pending an administrator's approval. The audit entry names
    the version, its digest and (for a small list) its plates.
    """
    name = _check_name(list_name)
    official = rules.is_official(name)
    terms = None if official else hand_list_terms(case_number, reason, expires_at)
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
    details: dict[str, Any] = {"official": official}
    if not refused:
        version = _store_version(engine, name, parsed.entries, official=official, terms=terms,
                                 actor=actor, source=origin)
        details = _version_audit(version, parsed.entries)
    event_id = audit.record(engine, audit.AuditEvent(
        actor=actor, action="hotlist.import", outcome="denied" if refused else "allowed",
        client_addr=client_addr, purpose=terms.reason if terms else None,
        case_number=terms.case_number if terms else None,
        data={"list": name, "imported": 0 if refused else len(parsed.entries),
              "rejected": len(parsed.rejected), "first_rejected": parsed.rejected[:5],
              **details}))
    if version is not None:
        repo.set_import_event(engine, version["id"], event_id)
    return ImportReport(name, 0 if refused else len(parsed.entries), parsed.rejected, refused,
                        version["version"] if version else None,
                        version["id"] if version else None, official,
                        version["status"] if version else None,
                        version["digest"] if version else None)


def add_partial_entry(engine: Engine, rules: HotlistSettings, list_name: str, pattern: str, *,
                      expires_at: datetime, reason: str, case_number: str, actor: str,
                      state: str | None = None,
                      client_addr: str | None = None) -> HotlistVersionRow:
    """Enter a partial plate from a major incident (462.7(4)) with its expiry (audited).

    The entry is entered by hand: it makes a new version of its list (the entries in
    force plus this one) that waits for an administrator's approval.
    """
    plate = normalise(pattern, typed=True)
    if not PLATE.match(plate) or not plate.strip("*?") or not ("?" in plate or "*" in plate):
        raise ValidationError("pattern", "a partial plate uses A-Z, 0-9 and at least one "
                                         "'?' (one character) or '*' (any run)")
    if expires_at <= datetime.now(UTC):
        raise ValidationError("expires_at", "the expiry must be in the future")
    if not reason.strip():
        raise ValidationError("reason", "say which incident the partial plate belongs to")
    reason = required_text("reason", reason, FIELD_LIMITS["reason"])
    name = _check_name(list_name)
    if state is not None and not STATE.match(state):
        raise ValidationError("state", "a state is a two-letter code")
    if rules.is_official(name):
        raise ValidationError("list_name", f"'{name}' is an official feed; enter partial "
                                           "plates on a list of their own")
    # The new version builds on the newest one not refused: the entries in force, or
    # those still waiting for approval, so that no entry waiting is dropped.
    kept: list[dict[str, Any]] = []
    until = expires_at
    base = next((v for v in repo.list_versions(engine, name=name)
                 if v["status"] != "rejected"), None)
    if base is not None:
        kept = [{f: e[f] for f in ENTRY_FIELDS}  # type: ignore[literal-required]
                for e in repo.version_entries(engine, base["hotlist_id"], base["version"],
                                              limit=None)
                if e["expires_at"] is None or e["expires_at"] > datetime.now(UTC)]
        until = max([expires_at] + [e["expires_at"] for e in kept if e["expires_at"]])
    terms = hand_list_terms(case_number, reason, until)
    entry = {"plate": plate, "is_partial": True, "plate_state": state,
             "category": "partial_plate", "reason": reason, "ncic_number": None, "ori": None,
             "expires_at": expires_at, "entered_at": datetime.now(UTC), "alert_note": None}
    entries = [*kept, entry]
    version = _store_version(engine, name, entries, official=False, terms=terms, actor=actor,
                             source=None)
    event_id = audit.record(engine, audit.AuditEvent(
        actor=actor, action="hotlist.partial.add", plate=plate, client_addr=client_addr,
        purpose=reason, case_number=terms.case_number,
        data={"list": name, "expires_at": expires_at.isoformat(), "reason": reason,
              **_version_audit(version, entries)}))
    repo.set_import_event(engine, version["id"], event_id)
    return version


list_hotlists = repo.list_hotlists
list_entries = repo.list_entries
# What controller.alerts.hotlist_edits builds its versions with.
check_name = _check_name
version_audit = _version_audit


# --- use cases: what the web, the API and the CLI offer, role and training checked ---

VIEW = "hotlists.view"
MANAGE = "hotlists.manage"
APPROVE = "hotlists.approve"
SEARCH = "search"


def overview(engine: Engine, caller: Caller) -> list[HotlistRow]:
    """Every list with its size and last update (``hotlists.view``)."""
    authorize(engine, caller, VIEW, "hotlist.list")
    return list_hotlists(engine)


def view_list(engine: Engine, caller: Caller, list_name: str,
              limit: int) -> list[HotlistEntryRow]:
    """The active entries of one list (``hotlists.view``, a purpose window: 462.5).

    Audited as ``hotlist.view`` with the window's purpose and case number and the
    plates shown.
    """
    authorize(engine, caller, VIEW, "hotlist.view", data={"list": list_name})
    window = purpose.require(engine, caller)
    rows = list_entries(engine, list_name, limit)
    purpose.record_view(engine, caller, window, "hotlist.view", results=len(rows), data={
        "list": list_name, "entries_shown": len(rows),
        "plates": sorted({str(r["plate"]) for r in rows})})
    return rows


def upload_list(engine: Engine, rules: HotlistSettings, caller: Caller, list_name: str,
                data: bytes | None, *, case_number: str = "", reason: str = "",
                expires_at: str = "") -> ImportReport:
    """Import an uploaded file as a new version of a list (``hotlists.manage``).

    A list that is not an official feed needs a case number, a reason and an expiry,
    and waits for an administrator's approval.
    """
    authorize(engine, caller, MANAGE, "hotlist.import", data={"list": list_name})
    if data is None:
        raise ValidationError("file", "choose a hotlist file to upload")
    return import_hotlist(engine, rules, data, list_name.strip(), case_number=case_number,
                          reason=reason, expires_at=expires_at, **caller.who())


def enter_partial(engine: Engine, caller: Caller, *, list_name: str, pattern: str,
                  expires_at: str, reason: str, state: str = "", case_number: str = "",
                  rules: HotlistSettings | None = None) -> HotlistVersionRow:
    """Enter a partial plate from a major incident with its expiry (``hotlists.manage``).

    It waits, with the list it joins, for an administrator's approval.
    """
    authorize(engine, caller, MANAGE, "hotlist.partial.add", data={"list": list_name})
    expires = parse_time("expires_at", expires_at)
    if expires is None:
        raise ValidationError("expires_at", "a partial plate needs an expiry")
    if not list_name.strip():
        raise ValidationError("list_name", "name the list the entry goes on")
    return add_partial_entry(engine, rules or HotlistSettings(), list_name.strip(), pattern,
                             expires_at=expires, reason=reason, case_number=case_number,
                             state=state.strip().upper() or None, **caller.who())


# --- approval of hand-entered versions (462.7.1(2)(3)) ---------------------------------------

# A version's digest is recomputed on view up to this many entries (an auditor's check
# that the stored entries are those that were entered and approved).
DIGEST_CHECK_LIMIT = 100_000


@dataclass(frozen=True)
class VersionView:
    """A version with (the first of) its entries and whether they still match its digest.

    ``digest_ok`` is None when the version has no digest (loaded before governance)
    or is too large to re-hash on view.
    """

    version: HotlistVersionRow
    entries: list[HotlistEntryRow]
    digest_ok: bool | None = None


def pending_versions(engine: Engine, caller: Caller) -> list[HotlistVersionRow]:
    """Hand-entered versions waiting for approval (``hotlists.approve``)."""
    authorize(engine, caller, APPROVE, "hotlist.approvals")
    return repo.list_versions(engine, status="pending")


def list_versions(engine: Engine, caller: Caller, list_name: str) -> list[HotlistVersionRow]:
    """Every kept version of one list, newest first (``hotlists.view``)."""
    authorize(engine, caller, VIEW, "hotlist.versions", data={"list": list_name})
    repo.find_list(engine, list_name)
    return repo.list_versions(engine, name=list_name)


def view_version(engine: Engine, caller: Caller, version_id: int, limit: int) -> VersionView:
    """One version and its entries (``hotlists.view``, a purpose window: 462.5).

    Audited as ``hotlist.view`` with the window's purpose and case number and the
    plates shown.
    """
    authorize(engine, caller, VIEW, "hotlist.view", data={"version_id": version_id})
    window = purpose.require(engine, caller)
    version = repo.get_version(engine, version_id)
    rows = repo.version_entries(engine, version["hotlist_id"], version["version"], limit)
    digest_ok = None
    if version["digest"] and version["entry_count"] <= DIGEST_CHECK_LIMIT:
        stored = repo.version_entries(engine, version["hotlist_id"], version["version"], None)
        digest_ok = entries_digest(cast_entries(stored)) == version["digest"]
    purpose.record_view(engine, caller, window, "hotlist.view", results=len(rows), data={
        "list": version["list_name"], "version": version["version"],
        "version_id": version_id, "entries_shown": len(rows), "digest_ok": digest_ok,
        "plates": sorted({str(r["plate"]) for r in rows})})
    return VersionView(version, rows, digest_ok)


def decide_version(engine: Engine, caller: Caller, version_id: int, *, approve: bool,
                   note: str = "") -> HotlistVersionRow:
    """Approve (the version raises hits from now) or reject a pending version.

    Only an administrator (``hotlists.approve``) other than the person who entered
    the version may decide; the stored entries must still have the digest they
    were entered with. Audited as ``hotlist.approve`` or ``hotlist.reject``.
    """
    action = "hotlist.approve" if approve else "hotlist.reject"
    authorize(engine, caller, APPROVE, action, data={"version_id": version_id})
    version = repo.get_version(engine, version_id)
    about = {"list": version["list_name"], "version": version["version"],
             "version_id": version_id}
    if version["submitted_by"] == caller.username:
        reason = ("the person who entered a list may not approve it; another administrator "
                  "must (policy 462.7.1(2)(3))")
        record(engine, caller, action, outcome="denied", data={**about, "reason": reason})
        raise AccessDenied(reason)
    if version["status"] != "pending":
        raise ValidationError("version", f"version {version['version']} of "
                                         f"{version['list_name']} is already {version['status']}")
    text = optional_text("note", note, 300)
    if not approve and text is None:
        raise ValidationError("note", "say why the list is rejected")
    if approve:
        if version["version"] < version["active_version"]:
            raise ValidationError("version", "a later version of this list is already in force")
        if version["expires_at"] is not None and version["expires_at"] <= datetime.now(UTC):
            raise ValidationError("version", "the list expired before it was approved; enter "
                                             "it again")
        stored = repo.version_entries(engine, version["hotlist_id"], version["version"], None)
        digest = entries_digest(cast_entries(stored))
        if digest != version["digest"]:
            record(engine, caller, action, outcome="denied",
                   data={**about, "reason": "entries changed since they were entered",
                         "digest": digest, "expected": version["digest"]})
            raise ValidationError("version", "the stored entries no longer match the digest "
                                             "they were entered with")
    decided = repo.decide_version(engine, version_id, approve=approve, actor=caller.username,
                                  now=datetime.now(UTC), note=text)
    record(engine, caller, action, case_number=version["case_number"], data={
        **about, "submitted_by": version["submitted_by"], "digest": version["digest"],
        "entries": version["entry_count"], "note": text,
        "expires_at": version["expires_at"]})
    return decided


def cast_entries(rows: Iterable[HotlistEntryRow]) -> list[dict[str, Any]]:
    """Stored entries as plain mappings of their fields (for the digest)."""
    return [{f: row.get(f) for f in ENTRY_FIELDS} for row in rows]


# --- who watched a plate, since when, on whose word --------------------------------------------

@dataclass(frozen=True)
class PlateHistoryItem:
    """One entry of one kept version that held the plate, and the hits it raised."""

    entry: PlateHistoryEntry
    hits: list[PlateHistoryHit]


def plate_history(engine: Engine, caller: Caller, plate: str) -> list[PlateHistoryItem]:
    """Every kept list version that held ``plate`` and the hits each raised (audited).

    Partial entries whose pattern matches the plate count as holding it. Needs
    the caller's purpose window (462.5); audited as ``hotlist.history`` with the
    plate, the number of versions shown and the window's purpose and case number.
    """
    typed = normalise(plate, typed=True)[:16]
    authorize(engine, caller, VIEW, "hotlist.history", plate=typed or None)
    if not typed or not re.fullmatch(r"[A-Z0-9]{1,16}", typed):
        raise ValidationError("plate", "enter a plate (1-16 letters and digits)")
    window = purpose.require(engine, caller)
    rows = repo.entries_holding(engine, typed)
    partials = [r for r in rows if r["is_partial"]]
    matcher = HotlistMatcher({"id": r["id"], "plate": r["plate"], "list_name": r["list_name"],
                              "is_partial": True} for r in partials)
    matching = {m.entry_id for m in matcher.match(typed) if m.kind == "partial"}
    held = [r for r in rows if r["plate"] == typed or r["id"] in matching]
    found = repo.hits_of_entries(engine, [r["id"] for r in held])
    by_entry: dict[int, list[PlateHistoryHit]] = {}
    for hit in found:
        by_entry.setdefault(hit["hotlist_entry_id"], []).append(hit)
    items = [PlateHistoryItem(r, by_entry.get(r["id"], [])) for r in held]
    purpose.record_view(engine, caller, window, "hotlist.history", plate=typed,
                        results=len(held), data={
                            "versions": sorted({int(r["version_id"]) for r in held
                                                if r["version_id"]}),
                            "entries": len(held), "hits": len(found)})
    return items


# --- historical hits: a listed plate against past reads, a search (462.5, 462.7.1) ----------

@dataclass(frozen=True)
class HistoricalResult:
    """A run of an approved request: its audit entry's number, the request, the reads."""

    search_id: int
    request: HistoricalRequestRow
    reads: list[DescribedRead]


def request_historical(engine: Engine, config: Settings, caller: Caller, entry_id: str, *,
                       purpose: str, case_number: str) -> int:
    """Ask to match a listed entry against past reads (``search``); return the request id.

    The purpose must be one of the search purposes and the case number is always
    required; the request runs only once another administrator approves it.
    """
    authorize(engine, caller, SEARCH, "hotlist.historical.request")
    entry = repo.get_entry(engine, record_id("entry_id", entry_id))
    why = purpose.strip()
    case = case_number.strip()
    try:
        if why not in config.search.purposes:
            raise ValidationError("purpose", "choose the purpose of this search from the list")
        if not case:
            raise ValidationError("case_number", "matching a listed plate against past reads "
                                                 "needs a case number")
        if not CASE_NUMBER.match(case):
            raise ValidationError("case_number", "use letters, digits, spaces and . / _ - "
                                                 "only (64 at most)")
    except ValidationError as exc:
        record(engine, caller, "hotlist.historical.request", outcome="denied",
               plate=entry["plate"], purpose=why[:300] or None, case_number=case[:64] or None,
               data={"entry_id": entry["id"], "reason": str(exc), "field": exc.field})
        raise
    request_id = repo.create_historical_request(engine, {
        "hotlist_entry_id": entry["id"], "list_name": entry["list_name"],
        "version": entry["version"], "plate": entry["plate"], "is_partial": entry["is_partial"],
        "purpose": why, "case_number": case, "requested_by": caller.username,
        "requested_at": datetime.now(UTC)})
    record(engine, caller, "hotlist.historical.request", plate=entry["plate"], purpose=why,
           case_number=case, data={"request_id": request_id, "entry_id": entry["id"],
                                   "list": entry["list_name"], "version": entry["version"]})
    return request_id


def historical_requests(engine: Engine, caller: Caller) -> list[HistoricalRequestRow]:
    """Requests this caller may act on: all pending ones for an approver, else their own."""
    authorize(engine, caller, SEARCH, "hotlist.historical.list")
    if roles_allow(caller, APPROVE):
        pending = repo.list_historical_requests(engine, status="pending")
        mine = repo.list_historical_requests(engine, requested_by=caller.username)
        seen = {r["id"] for r in pending}
        return pending + [r for r in mine if r["id"] not in seen]
    return repo.list_historical_requests(engine, requested_by=caller.username)


def roles_allow(caller: Caller, permission: str) -> bool:
    """Tell whether the caller's role holds ``permission`` (no audit: a page layout choice)."""
    return roles.allowed(permission, caller.role)


def decide_historical(engine: Engine, caller: Caller, request_id: int, *,
                      approve: bool) -> HistoricalRequestRow:
    """Approve or refuse a request (``hotlists.approve``, never the requester's own)."""
    action = "hotlist.historical.approve" if approve else "hotlist.historical.reject"
    authorize(engine, caller, APPROVE, action, data={"request_id": request_id})
    req = repo.get_historical_request(engine, request_id)
    if req["requested_by"] == caller.username:
        reason = "the person who asked for a historical match may not approve it"
        record(engine, caller, action, outcome="denied", plate=req["plate"],
               data={"request_id": request_id, "reason": reason})
        raise AccessDenied(reason)
    if req["status"] != "pending":
        raise ValidationError("request", f"request {request_id} is already {req['status']}")
    repo.decide_historical_request(engine, request_id, approve=approve, actor=caller.username,
                                   now=datetime.now(UTC))
    record(engine, caller, action, plate=req["plate"], purpose=req["purpose"],
           case_number=req["case_number"],
           data={"request_id": request_id, "requested_by": req["requested_by"]})
    return repo.get_historical_request(engine, request_id)


def run_historical(engine: Engine, config: Settings, caller: Caller,
                   request_id: int) -> HistoricalResult:
    """Run an approved request as its requester (``search``); audited as ``search.historical``.

    The audit entry carries the plate or pattern, the purpose, the case number, who
    approved it and the ids of the reads returned, like every other search. The
    request's approved purpose and case number are named; the caller's purpose
    window must be open too (462.5: no plate data outside one) and is named by id.
    """
    action = "search.historical"
    authorize(engine, caller, SEARCH, action, data={"request_id": request_id})
    req = repo.get_historical_request(engine, request_id)
    refusal = None
    if req["requested_by"] != caller.username:
        refusal = "only the person who asked for this historical match may run it"
    elif req["status"] != "approved":
        refusal = f"request {request_id} is {req['status']}: it runs only once approved"
    if refusal is not None:
        record(engine, caller, action, outcome="denied", plate=req["plate"],
               purpose=req["purpose"], case_number=req["case_number"],
               data={"request_id": request_id, "reason": refusal})
        raise AccessDenied(refusal)
    window = purpose.require(engine, caller)
    limit = config.search.max_results
    rows = (read_repo.search_partial(engine, req["plate"], limit=limit) if req["is_partial"]
            else read_repo.search_exact(engine, req["plate"], limit=limit))
    repo.count_historical_run(engine, request_id)
    search_id = record(engine, caller, action, plate=req["plate"], purpose=req["purpose"],
                       case_number=req["case_number"], data={
                           "mode": "historical", "request_id": request_id,
                           "list": req["list_name"], "version": req["version"],
                           "approved_by": req["decided_by"], "results": len(rows),
                           "window": window.id,
                           "read_ids": [int(r["id"]) for r in rows]})
    return HistoricalResult(search_id, repo.get_historical_request(engine, request_id),
                            read_repo.describe_reads(engine, rows))
