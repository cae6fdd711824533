"""The administrator's view of the record of access (462.5, 462.6): filter it, verify it.

Both use cases need ``audit.view`` (administrators only) and current training;
a refusal is audited as ``audit.view`` denied.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller import audit
from controller.accounts import Caller, authorize
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


@dataclass(frozen=True)
class AuditFilters:
    """The filter as typed: user, action, plate, first and last UTC day (YYYY-MM-DD)."""

    actor: str = ""
    action: str = ""
    plate: str = ""
    since: str = ""
    until: str = ""


def search_log(engine: Engine, caller: Caller, filters: AuditFilters,
               limit: int = PAGE_SIZE) -> list[AuditRow]:
    """The newest entries matching the filter (``audit.view``); a bad field is named."""
    authorize(engine, caller, PERMISSION, "audit.view")
    first, last = parse_day("since", filters.since), parse_day("until", filters.until)
    if first and last and last < first:
        raise ValidationError("until", "the last day is before the first")
    since, until = day_window(first, last)
    return audit_repo.search(engine, actor=filters.actor.strip() or None,
                             action=filters.action.strip() or None,
                             plate=normalise(filters.plate, typed=True) or None,
                             since=since, until=until, limit=limit)


def verify_log(engine: Engine, caller: Caller, settings: Settings) -> audit.ChainReport:
    """Walk the whole keyed chain and check it against every anchor outside the database;
    report the first entry or anchor that does not verify."""
    authorize(engine, caller, PERMISSION, "audit.view")
    return audit.verify(engine, audit.anchor_dir(settings))
