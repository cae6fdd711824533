"""The access log read by program for the quarterly audit (462.5, 462.6): ``audit.read``.

Policy 462.5 has the ALPR Administrator establish the access log and 462.6 perform
the quarterly audits; 462.3.1 makes the administrator a person, and an API client
never holds that role. What a program may do for them is read: an API client of
the client-only role ``auditor`` (``sightline client add NAME --role auditor``;
never a user's role) holds ``audit.read``, which allows

- querying the log, page by page (the log names plates: under a purpose window,
  each page audited as ``audit.read`` with its filter and rows, as the UI's
  ``audit.view`` is);
- verifying the keyed chain against its anchors (audited as ``audit.verify``);
- fetching a closed quarter's package, built first when the schedule has not
  built it yet (audited as ``export.audit`` and ``export.download_audit``).

The administrator's review of the package, its sample marked justified or not,
and the sign-off stay in the UI (``compliance.manage``, ``audit_sample``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from controller import audit
from controller.accounts import Caller, authorize, purpose, record
from controller.compliance import downloads, exports, packages
from controller.compliance.audit_log import PAGE_SIZE, AuditFilters, criteria
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store.records import AuditRow

PERMISSION = "audit.read"


def read_log(engine: Engine, caller: Caller, filters: AuditFilters, *,
             before_id: int | None = None, limit: int = PAGE_SIZE) -> list[AuditRow]:
    """The newest entries matching the filter, after ``before_id`` (a keyset page); audited."""
    authorize(engine, caller, PERMISSION, "audit.read")
    window = purpose.require(engine, caller)
    found = criteria(filters)
    rows = audit_repo.search(engine, actor=found.actor, action=found.action, plate=found.plate,
                             since=found.since, until=found.until, limit=limit,
                             before=before_id)
    purpose.record_view(engine, caller, window, "audit.read", plate=found.plate,
                        results=len(rows),
                        data={"actor": found.actor, "action": found.action,
                              "since": found.since, "until": found.until,
                              "before_id": before_id,
                              "ids": [int(r["id"]) for r in rows][:PAGE_SIZE]})
    return rows


def verify_chain(engine: Engine, caller: Caller, settings: Settings) -> audit.ChainReport:
    """Walk the keyed chain and check it against every anchor (audited as ``audit.verify``)."""
    authorize(engine, caller, PERMISSION, "audit.verify")
    report = audit.verify(engine, audit.anchor_dir(settings))
    record(engine, caller, "audit.verify", outcome="allowed", data=report.as_dict())
    return report


def quarter_package(engine: Engine, settings: Settings, caller: Caller,
                    quarter: str, *, now: datetime | None = None) -> tuple[packages.Download, bool]:
    """A closed quarter's audit package as a zip, and whether this call built it.

    A quarter still running has no package (it would miss the rest of the
    quarter). One the schedule has not built yet is built first, under the
    caller's name; a package already built is never rebuilt.
    """
    authorize(engine, caller, PERMISSION, "export.download_audit", data={"quarter": quarter[:8]})
    label, _start, end = exports.parse_quarter(quarter)
    if end > (now or datetime.now(UTC)):
        raise ValidationError("quarter", f"{label} has not ended: its package is built once "
                                         "it has")
    name = f"audit-{label}"
    out = exports.audit_export_dir(settings)
    built = not (out / name).exists()
    if built:
        out.mkdir(parents=True, exist_ok=True)
        exports.build_audit_package(engine, settings, label, out, **caller.who())
    return downloads.zip_audit_package(engine, settings, caller, name), built
