"""Purpose windows (462.5, 462.7.1(2)(3)): why a user sees plate data, stated once per piece
of work.

A signed-in user states a purpose (from ``search.purposes``), a case number and
the attestation of official law-enforcement use once; the window then covers
their views of plate data (searches, reads, images, hits, the audit log) for
``search.purpose_window_minutes`` and expires. Every use case that shows plate
data calls ``require`` and writes its audit entry with ``record_view``, so each
entry names the window's purpose and case number, the plate or query and the
rows returned. Windows are stored in the database, one open per user, so the
web, the CLI and the API share them; a caller only ever finds their own.
Stating and ending a window are audited (``purpose.state``, ``purpose.end``);
a window that simply runs out needs no entry (its end is stored with it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.accounts.caller import Caller, authorize, record
from controller.errors import (
    AccessDenied,
    InvalidFields,
    NotFound,
    PurposeRequired,
    ValidationError,
)
from controller.settings import Settings
from controller.store import Engine
from controller.store import purpose as repo
from controller.store import users as user_repo
from controller.store.purpose import WindowRow

# WindowRow is re-exported as the window: the web names it without importing the store.
__all__ = ["CASE_NUMBER", "PERMISSION", "PurposeForm", "Window", "check", "current", "end",
           "ensure", "record_shown", "record_view", "require", "state"]

PERMISSION = "purpose"
STATE = "purpose.state"
END = "purpose.end"
ENDED = "ended"
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$")
PURPOSE_LIMIT = 300
Window = WindowRow


@dataclass(frozen=True)
class PurposeForm:
    """A statement as typed: purpose, case number, attestation ("yes"), nothing checked."""

    purpose: str = ""
    case_number: str = ""
    attest: str = ""


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def check(config: Settings, form: PurposeForm) -> tuple[str, str | None]:
    """The purpose and case number of a statement; InvalidFields naming every bad field."""
    problems: list[ValidationError] = []
    purpose = form.purpose.strip()
    if purpose not in config.search.purposes:
        problems.append(ValidationError("purpose", "choose the purpose of this work from "
                                                   "the list"))
    case = form.case_number.strip()
    if case and not CASE_NUMBER.match(case):
        problems.append(ValidationError("case_number", "use letters, digits, spaces and "
                                                       ". / _ - only (64 at most)"))
    if not case and config.search.case_number_required:
        problems.append(ValidationError("case_number", "a case number is required"))
    if form.attest != "yes":
        problems.append(ValidationError("attest", "attest that this work is for official "
                                                  "law-enforcement use"))
    if problems:
        raise InvalidFields(problems)
    return purpose, case or None


def _user_id(engine: Engine, caller: Caller, action: str) -> int:
    if caller.user_id is not None:
        return caller.user_id
    try:
        return int(user_repo.get(engine, caller.username)["id"])
    except NotFound:
        reason = "plate data is for signed-in Sightline users only (policy 462.5.1)"
        record(engine, caller, action, outcome="denied", data={"reason": reason})
        raise AccessDenied(reason) from None


def state(engine: Engine, config: Settings, caller: Caller, form: PurposeForm, *,
          now: datetime | None = None) -> Window:
    """Open the caller's purpose window (permission ``purpose``), replacing an open one.

    A bad field is audited as ``purpose.state`` denied, with what was typed, and
    raised; an opened window is audited with its purpose, case number and end.
    """
    authorize(engine, caller, PERMISSION, STATE)
    try:
        purpose, case = check(config, form)
    except ValidationError as exc:
        record(engine, caller, STATE, outcome="denied",
               purpose=form.purpose.strip()[:PURPOSE_LIMIT] or None,
               case_number=form.case_number.strip()[:64] or None,
               data={"reason": str(exc), "field": exc.field})
        raise
    when = _now(now)
    minutes = config.search.purpose_window_minutes
    window, replaced = repo.start(engine, user_id=_user_id(engine, caller, STATE),
                                  purpose=purpose, case_number=case, now=when,
                                  expires_at=when + timedelta(minutes=minutes),
                                  client_addr=caller.client_addr, client_id=caller.client_id)
    record(engine, caller, STATE, purpose=purpose, case_number=case,
           data={"window": window.id, "until": window.expires_at, "minutes": minutes,
                 "replaced": [w.id for w in replaced]})
    return window


def current(engine: Engine, caller: Caller, *, now: datetime | None = None) -> Window | None:
    """The caller's own open window, or None (no plate data: not audited)."""
    user_id = caller.user_id
    if user_id is None:
        try:
            user_id = int(user_repo.get(engine, caller.username)["id"])
        except NotFound:
            return None
    return repo.current(engine, user_id, _now(now), caller.client_id)


def end(engine: Engine, caller: Caller, *, now: datetime | None = None) -> bool:
    """End the caller's open window (``purpose``); audited. Return whether one was open."""
    authorize(engine, caller, PERMISSION, END)
    ended = repo.end(engine, _user_id(engine, caller, END), _now(now), ENDED, caller.client_id)
    for window in ended:
        record(engine, caller, END, purpose=window.purpose, case_number=window.case_number,
               data={"window": window.id})
    return bool(ended)


def ensure(engine: Engine, config: Settings, caller: Caller, form: PurposeForm, *,
           now: datetime | None = None) -> Window:
    """The caller's open window for this purpose and case number, stated if need be.

    For callers that give the purpose with every request (an API client): the
    same purpose and case number as the open window reuse it (nothing written);
    anything else is a new statement, checked and audited by ``state``.
    """
    window = current(engine, caller, now=now)
    typed = (form.purpose.strip(), form.case_number.strip())
    if window is not None and typed == (window.purpose, window.case_number or ""):
        authorize(engine, caller, PERMISSION, STATE)
        return window
    return state(engine, config, caller, form, now=now)


def require(engine: Engine, caller: Caller, *, now: datetime | None = None) -> Window:
    """The caller's open window; ``PurposeRequired`` when there is none (the front end asks)."""
    window = current(engine, caller, now=now)
    if window is None:
        raise PurposeRequired("state the purpose and case number of this work first "
                              "(policy 462.5)")
    return window


def record_view(engine: Engine, caller: Caller, window: Window, action: str, *,
                results: int, plate: str | None = None,
                data: Mapping[str, Any] | None = None) -> int:
    """Audit a view of plate data under ``window``: plate or query, rows, purpose, case."""
    return record(engine, caller, action, plate=plate, purpose=window.purpose,
                  case_number=window.case_number,
                  data={**(data or {}), "results": results, "window": window.id})


def record_shown(engine: Engine, caller: Caller, window: Window, action: str, *,
                 shown: Sequence[str], plates: Sequence[str],
                 data: Mapping[str, Any] | None = None) -> int | None:
    """Audit a list a page refreshes (the hit queue, the overview's feeds): once per window,
    kind of list (``action``) and content.

    ``shown`` names the rows (their uuids): when the window's last logged list was
    exactly these rows, the earlier entry already records this view and nothing is
    written (None); otherwise the entry lists the plates and returns its number.
    """
    digest = hashlib.sha256("\n".join([action, *shown]).encode()).hexdigest()
    if not repo.swap_shown_digest(engine, window.id, action, digest):
        return None
    return record_view(engine, caller, window, action, results=len(shown),
                       data={**(data or {}), "plates": sorted(set(plates))})
