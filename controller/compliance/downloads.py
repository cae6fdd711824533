"""Downloads in the browser (462.5, 462.6): search results and the audit log as CSV, the
quarterly audit packages as zip files; each to those entitled, each audited either way.

- A search's results (``export.search_csv``): the searcher alone, for a search they
  ran under their purpose window that is still open; the entry names its purpose,
  case number and the rows.
- The access log with the page's filter (``export.audit_log_csv``): ``audit.view``
  (administrators), under an open purpose window like the page itself.
- A quarterly audit package (``export.download_audit``): the administrator, by the
  package's name as the audits page lists it (never a path), its manifest verified.

Every CSV cell goes through ``controller.csvsafe``, so a typed note, reason or case
number that begins like a formula opens as text in a spreadsheet. Evidence and
sharing packages leave by their owner through ``controller.compliance.packages``.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from controller import csvsafe
from controller.accounts import Caller, authorize, purpose, record
from controller.compliance import audit_log, exports, packages
from controller.errors import AccessDenied, ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store import corrections as correction_repo
from controller.store import reads as read_repo
from controller.validation import record_id

SEARCH_PERMISSION = "search"
AUDIT_PERMISSION = audit_log.PERMISSION
PACKAGE_PERMISSION = "compliance.manage"
LOG_EXPORT_LIMIT = 100_000  # a cost ceiling: a narrower filter beyond it
PACKAGE_NAME = re.compile(r"^audit-\d{4}Q[1-4]$")
READ_FIELDS = ("read", "plate", "corrected_plate", "seen_at_utc", "camera", "site", "direction",
               "confidence", "latitude", "longitude", "notes", "purpose", "case_number")


@dataclass(frozen=True)
class CsvDownload:
    """A CSV file ready to send: its name, its text and how many rows it has."""

    filename: str
    text: str
    rows: int


def _refuse(engine: Engine, caller: Caller, action: str, reason: str,
            **data: object) -> AccessDenied:
    record(engine, caller, action, outcome="denied", data={"reason": reason, **data})
    return AccessDenied(reason)


def search_csv(engine: Engine, caller: Caller, search_id: str) -> CsvDownload:
    """The results of one's own search, as run under the purpose window still open
    (``search``); audited as ``export.search_csv`` with the window's purpose and case."""
    action = "export.search_csv"
    authorize(engine, caller, SEARCH_PERMISSION, action, data={"search": search_id[:20]})
    window = purpose.require(engine, caller)
    event_id = record_id("search_id", search_id)
    event = audit_repo.audit_event(engine, event_id)
    data = (event["data"] or {}) if event is not None else {}
    if event is None or not (str(event["action"]).startswith("search.")
                             and event["outcome"] == "allowed"
                             and event["actor"] == caller.username):
        raise _refuse(engine, caller, action, "not one of your searches", search=event_id)
    if data.get("window") != window.id:
        raise _refuse(engine, caller, action, "that search ran under another purpose "
                      "statement: run it again under the current one", search=event_id)
    read_ids = [int(i) for i in data.get("read_ids", [])]
    rows = read_repo.reads_by_ids(engine, read_ids)
    notes = correction_repo.notes_for_reads(engine, read_ids)
    handle = io.StringIO(newline="")
    writer = csvsafe.writer(handle)
    writer.writerow(READ_FIELDS)
    for read in rows:
        read_notes = notes.get(int(read["id"]), [])
        writer.writerow([read["uuid"], read["plate"], "", read["seen_at"].isoformat(),
                         read["camera"], read["site"], read["direction"] or "",
                         read["confidence"], read["latitude"], read["longitude"],
                         " | ".join(read_notes), event["purpose"] or "",
                         event["case_number"] or ""])
    purpose.record_view(engine, caller, window, action, plate=event["plate"],
                        results=len(rows), data={"search": event_id, "read_ids": read_ids})
    return CsvDownload(f"search-{event_id}.csv", handle.getvalue(), len(rows))


def audit_log_csv(engine: Engine, caller: Caller, filters: audit_log.AuditFilters) -> CsvDownload:
    """The access log matching the page's filter, newest first (``audit.view``); audited
    as ``export.audit_log_csv`` with the filter and the rows written."""
    action = "export.audit_log_csv"
    authorize(engine, caller, AUDIT_PERMISSION, action)
    window = purpose.require(engine, caller)
    found = audit_log.criteria(filters)
    rows = audit_repo.search(engine, actor=found.actor, action=found.action, plate=found.plate,
                             since=found.since, until=found.until, limit=LOG_EXPORT_LIMIT + 1)
    if len(rows) > LOG_EXPORT_LIMIT:
        raise ValidationError("since", f"more than {LOG_EXPORT_LIMIT} entries match: choose "
                                       "a narrower filter (days, user or action)")
    handle = io.StringIO(newline="")
    writer = csvsafe.writer(handle)
    writer.writerow(exports.LOG_FIELDS)
    for row in rows:
        writer.writerow([
            json.dumps(row["data"], sort_keys=True, default=exports.json_default) if f == "data"
            else row["at"].isoformat() if f == "at"
            else "" if row[f] is None else row[f]  # type: ignore[literal-required]
            for f in exports.LOG_FIELDS])
    purpose.record_view(engine, caller, window, action, plate=found.plate, results=len(rows),
                        data={"actor": found.actor, "action": found.action,
                              "since": found.since, "until": found.until})
    return CsvDownload("access-log.csv", handle.getvalue(), len(rows))


def audit_package(engine: Engine, settings: Settings, caller: Caller,
                  name: str) -> packages.Download:
    """A quarterly audit package as a zip, by its listed name (``compliance.manage``), its
    manifest verified first; audited as ``export.download_audit`` either way."""
    authorize(engine, caller, PACKAGE_PERMISSION, "export.download_audit",
              data={"name": name[:40]})
    return zip_audit_package(engine, settings, caller, name)


def zip_audit_package(engine: Engine, settings: Settings, caller: Caller,
                      name: str) -> packages.Download:
    """The package as a zip, its manifest verified first; audited either way. The caller's
    permission is the use case's to check (``audit_package``, ``audit_log.quarter_package``)."""
    action = "export.download_audit"
    if not PACKAGE_NAME.match(name):
        raise ValidationError("name", "not an audit package name (audit-YYYYQn)")
    folder: Path = exports.audit_export_dir(settings) / name
    problems = exports.verify_manifest(folder) if folder.is_dir() else ["no such package"]
    if problems:
        record(engine, caller, action, outcome="denied",
               data={"name": name, "problems": problems[:20]})
        raise ValidationError("name", f"package {name} does not verify against its "
                                      f"manifest: {problems[0]}")
    file, size = packages.zip_folder(folder)
    record(engine, caller, action, data={"name": name, "bytes": size,
                                         "manifest_sha256": exports.sha256_file(
                                             folder / exports.MANIFEST)})
    return packages.Download(f"{name}.zip", file, size)
