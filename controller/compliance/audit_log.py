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
from controller.validation import day_window, parse_day, record_id
from inference.plates import normalise

# AuditRow is re-exported: the web names the rows it shows without importing the store.
__all__ = ["PAGE_SIZE", "PERMISSION", "AuditFilters", "AuditPage", "AuditRow", "action_choices",
           "action_label", "search_log", "verify_log"]

PERMISSION = "audit.view"
PAGE_SIZE = 100
PLATE_LIMIT = 16

# What each recorded action is, in the words of the people who review the log (462.6).
# An action not listed here is named from its parts ("hotlist.partial.add" ->
# "Hotlist: partial add"), so a new action is still readable before it is listed.
ACTION_LABELS = {
    "access.denied": "Refused access", "account.compromised": "Password reported compromised",
    "account.reconfirm": "Account reconfirmed", "account.suspend": "Account suspended",
    "account.reinstate": "Account reinstated", "audit.view": "Audit log viewed",
    "audit.review": "Quarterly review recorded", "camera.adopt": "Camera adopted",
    "camera.edit": "Camera edited", "camera.regions": "Masks and zones changed",
    "hit.queue": "Hit queue viewed", "hit.view": "Hit viewed", "hit.verify": "Hit verified",
    "hit.history": "Hit history viewed", "hold.create": "Evidence hold placed",
    "hold.release": "Evidence hold released", "hotlist.import": "Hotlist imported",
    "hotlist.approve": "Hotlist approved", "hotlist.reject": "Hotlist rejected",
    "hotlist.partial.add": "Partial plate entered", "image.view": "Image viewed",
    "image.thumbnails": "Thumbnails viewed", "login": "Signed in",
    "login.failed": "Failed sign-in", "login.lockout": "Account locked out",
    "login.password": "Password changed", "logout": "Signed out", "mask.lift": "Mask lifted",
    "mask.restore": "Mask restored", "policy.acknowledge": "Policy acknowledged",
    "policy.publish": "Policy published", "purpose.state": "Purpose stated",
    "purpose.end": "Purpose ended", "read.view": "Read viewed",
    "search.exact": "Search: exact plate", "search.partial": "Search: partial plate",
    "search.canvass": "Search: canvass", "site.add": "Site added", "site.edit": "Site edited",
    "site.disable": "Site disabled", "site.enable": "Site enabled",
    "site.delete": "Site deleted", "hotlist.disable": "Hotlist disabled",
    "hotlist.enable": "Hotlist enabled", "hotlist.delete": "Hotlist deleted",
    "hotlist.entry.change": "Hotlist entry changed", "hotlist.entry.end": "Hotlist entry ended",
    "training.record": "Training recorded", "user.add": "User added",
    "user.disable": "User disabled", "user.enable": "User enabled", "user.role": "Role changed",
}


def action_label(action: str) -> str:
    """The readable name of a recorded action."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    head, _, rest = action.partition(".")
    words = rest.replace(".", " ").replace("_", " ")
    return f"{head.capitalize()}: {words}" if words else head.capitalize()


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first, with the entry numbers that page on from it:
    ``older`` (the rows before this page) and ``newer`` (the rows after it), None at an end."""

    rows: list[AuditRow]
    older: int | None
    newer: int | None


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
    before: str = ""
    after: str = ""


def action_choices(engine: Engine, caller: Caller) -> list[tuple[str, str]]:
    """Every action the log holds as ``(action, readable label)``, by label (``audit.view``)."""
    authorize(engine, caller, PERMISSION, "audit.view")
    return sorted(((a, action_label(a)) for a in audit_repo.actions(engine)),
                  key=lambda choice: choice[1].lower())


def _cursor(field: str, value: str) -> int | None:
    return record_id(field, value) if value.strip() else None


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
               limit: int = PAGE_SIZE) -> AuditPage:
    """A page of the entries matching the filter, newest first (``audit.view``); a bad
    field is named. ``filters.before``/``after`` page on by entry number (keyset)."""
    authorize(engine, caller, PERMISSION, "audit.view")
    window = purpose.require(engine, caller)
    before, after = _cursor("before", filters.before), _cursor("after", filters.after)
    found = criteria(filters)
    # One row more than the page: whether there is a further page, without counting.
    rows = audit_repo.search(engine, actor=found.actor, action=found.action, plate=found.plate,
                             since=found.since, until=found.until, limit=limit + 1,
                             before=before, after=None if before is not None else after)
    more = len(rows) > limit
    if after is not None and before is None:
        rows = rows[-limit:] if more else rows
        page = AuditPage(rows, older=_end(rows, -1), newer=_end(rows, 0) if more else None)
    else:
        rows = rows[:limit]
        page = AuditPage(rows, older=_end(rows, -1) if more else None,
                         newer=_end(rows, 0) if before is not None else None)
    purpose.record_view(engine, caller, window, "audit.view", plate=found.plate,
                        results=len(rows),
                        data={"actor": found.actor, "action": found.action,
                              "since": found.since, "until": found.until, "before": before,
                              "after": after})
    return page


def _end(rows: list[AuditRow], index: int) -> int | None:
    return int(rows[index]["id"]) if rows else None


def verify_log(engine: Engine, caller: Caller, settings: Settings) -> audit.ChainReport:
    """Walk the whole keyed chain and check it against every anchor outside the database;
    report the first entry or anchor that does not verify."""
    authorize(engine, caller, PERMISSION, "audit.view")
    return audit.verify(engine, audit.anchor_dir(settings))
