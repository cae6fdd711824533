"""The administrator's view of the record of access (462.5, 462.6): filter it, verify it.

Both use cases need ``audit.view`` (administrators only) and current training;
a refusal is audited as ``audit.view`` denied. The log names plates, so reading it
needs an open purpose window like any view of plate data, and each page is itself
audited (``audit.view``: the filter, the rows shown, the window's purpose and case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from controller import audit
from controller.accounts import Caller, authorize, purpose
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store.records import AuditRow
from controller.validation import day_window, parse_day
from inference.plates import normalise

# AuditRow is re-exported: the web names the rows it shows without importing the store.
__all__ = ["PAGE_SIZE", "PERMISSION", "AuditFilters", "AuditRow", "search_log", "verify_log"]

PERMISSION = "audit.view"
PAGE_SIZE = 200
PLATE_LIMIT = 16


@dataclass(frozen=True)
class AuditFilters:
    """The filter as typed: user, action, plate, first and last day (YYYY-MM-DD) of
    ``zone`` (the agency's, from the web; UTC by default)."""

    actor: str = ""
    action: str = ""
    plate: str = ""
    since: str = ""
    until: str = ""
    zone: tzinfo = UTC


@dataclass(frozen=True)
class LogCriteria:
    """A checked filter: what ``store.audit.search`` takes."""

    actor: str | None
    action: str | None
    plate: str | None
    since: datetime | None
    until: datetime | None


def criteria(filters: AuditFilters) -> LogCriteria:
    """The filter checked; ValidationError naming the first bad field."""
    first, last = parse_day("since", filters.since), parse_day("until", filters.until)
    if first and last and last < first:
        raise ValidationError("until", "the last day is before the first")
    since, until = day_window(first, last, filters.zone)
    plate = normalise(filters.plate, typed=True) or None
    if plate and len(plate) > PLATE_LIMIT:
        raise ValidationError("plate", f"a plate is at most {PLATE_LIMIT} letters and digits")
    return LogCriteria(actor=filters.actor.strip()[:64] or None,
                       action=filters.action.strip()[:64] or None, plate=plate, since=since,
                       until=until)


def search_log(engine: Engine, caller: Caller, filters: AuditFilters,
               limit: int = PAGE_SIZE) -> list[AuditRow]:
    """The newest entries matching the filter (``audit.view``); a bad field is named."""
    authorize(engine, caller, PERMISSION, "audit.view")
    window = purpose.require(engine, caller)
    found = criteria(filters)
    rows = audit_repo.search(engine, actor=found.actor, action=found.action, plate=found.plate,
                             since=found.since, until=found.until, limit=limit)
    purpose.record_view(engine, caller, window, "audit.view", plate=found.plate,
                        results=len(rows),
                        data={"actor": found.actor, "action": found.action,
                              "since": found.since, "until": found.until})
    return rows


def verify_log(engine: Engine, caller: Caller, settings: Settings) -> audit.ChainReport:
    """Walk the whole keyed chain and check it against every anchor outside the database;
    report the first entry or anchor that does not verify."""
    authorize(engine, caller, PERMISSION, "audit.view")
    return audit.verify(engine, audit.anchor_dir(settings))
