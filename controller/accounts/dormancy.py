"""Unused accounts are suspended and every account is reconfirmed each quarter (462.4: access
is limited to authorized users; the State Auditor's report 2019-118 recommends both).

- An account not used (no sign-in) for ``SecuritySettings.dormant_days`` (90) since it
  was made, last used or reinstated is suspended by the daily ``accounts:review`` job.
- An administrator reconfirms every account once per calendar quarter (the
  reconfirmation page lists the accounts due). An account neither made, reinstated
  nor reconfirmed during the last quarter is suspended when the quarter is over.
- A suspended account cannot sign in (the login says why) and its sessions end; an
  administrator reinstates it, which counts as its reconfirmation.

The last administrator who can still sign in is never suspended by the job (the
job logs and audits that it was left), so the program cannot lock itself out.
Every suspension, reinstatement and reconfirmation is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize, record
from controller.errors import NotFound, ValidationError
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import account_status as repo
from controller.store import users as user_repo
from controller.validation import required_text

log = logging.getLogger("sightline.accounts")

SCHEDULER_ACTOR = "system:scheduler"
PERMISSION = "users.manage"


def quarter_start(day: date) -> date:
    """The first day of ``day``'s calendar quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter_start(day: date) -> date:
    """The first day of the quarter before ``day``'s."""
    start = quarter_start(day)
    return quarter_start(start - timedelta(days=1))


def quarter_end(day: date) -> date:
    """The last day of ``day``'s calendar quarter."""
    start = quarter_start(day)
    following = date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return following - timedelta(days=1)


def _latest(*moments: datetime | None) -> datetime:
    return max(m for m in moments if m is not None)


@dataclass(frozen=True)
class AccountState:
    """What the reconfirmation page shows of one account."""

    username: str
    role: str
    disabled: bool
    last_login: datetime | None
    last_used: datetime
    confirmed_at: datetime | None
    confirmed_by: str | None
    suspended_at: datetime | None
    suspended_reason: str | None
    due: bool


def states(engine: Engine, now: datetime | None = None) -> list[AccountState]:
    """Every account with its last use, reconfirmation and suspension."""
    now = now or datetime.now(UTC)
    logins, status = repo.last_logins(engine), repo.statuses(engine)
    this_quarter = datetime.combine(quarter_start(now.date()), datetime.min.time(), UTC)
    found = []
    for user in user_repo.list_all(engine):
        uid = int(user["id"])
        row: Mapping[str, Any] = status.get(uid) or {}
        used = _latest(user["created_at"], logins.get(uid), row.get("reinstated_at"))
        confirmed = _latest(user["created_at"], row.get("confirmed_at"))
        found.append(AccountState(
            str(user["username"]), str(user["role"]), bool(user["disabled"]), logins.get(uid),
            used, row.get("confirmed_at"), row.get("confirmed_by"), row.get("suspended_at"),
            row.get("suspended_reason"), due=confirmed < this_quarter))
    return found


def suspension(engine: Engine, user_id: int) -> str | None:
    """Why the account is suspended, or None when it is not."""
    row = repo.get(engine, user_id)
    if row is None or row["suspended_at"] is None:
        return None
    return str(row["suspended_reason"] or "suspended")


def _can_sign_in(state: AccountState) -> bool:
    return not state.disabled and state.suspended_at is None


def _suspend(engine: Engine, state: AccountState, reason: str, *, actor: str,
             now: datetime, everyone: list[AccountState]) -> bool:
    admins = [s for s in everyone if s.role == "administrator" and _can_sign_in(s)]
    if state.role == "administrator" and len(admins) <= 1:
        log.warning("account %s not suspended (%s): it is the last administrator",
                    state.username, reason)
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="account.suspend", outcome="denied",
            data={"username": state.username, "reason": reason,
                  "why_not": "the last administrator who can sign in"}))
        return False
    user = user_repo.get(engine, state.username)
    if not repo.suspend(engine, int(user["id"]), reason=reason, actor=actor, now=now):
        return False
    audit.record(engine, audit.AuditEvent(actor=actor, action="account.suspend",
                                          data={"username": state.username, "reason": reason}))
    return True


def suspend_due(engine: Engine, rules: SecuritySettings, *, now: datetime | None = None,
                actor: str = SCHEDULER_ACTOR) -> list[str]:
    """Suspend accounts unused for ``rules.dormant_days`` or not reconfirmed during the
    last quarter; return their usernames (each audited)."""
    now = now or datetime.now(UTC)
    everyone = states(engine, now)
    last_quarter = datetime.combine(previous_quarter_start(now.date()), datetime.min.time(),
                                    UTC)
    status = repo.statuses(engine)
    suspended = []
    for state in everyone:
        if not _can_sign_in(state):
            continue
        user = user_repo.get(engine, state.username)
        row: Mapping[str, Any] = status.get(int(user["id"])) or {}
        confirmed = _latest(user["created_at"], row.get("confirmed_at"))
        reason = None
        if now - state.last_used > timedelta(days=rules.dormant_days):
            reason = (f"unused for {rules.dormant_days} days (last used "
                      f"{state.last_used:%Y-%m-%d})")
        elif confirmed < last_quarter:
            reason = (f"not reconfirmed by an administrator during the quarter that began "
                      f"{last_quarter:%Y-%m-%d}")
        if reason and _suspend(engine, state, reason, actor=actor, now=now,
                               everyone=everyone):
            suspended.append(state.username)
            everyone = states(engine, now)
    return suspended


# --- use cases: the administrator's reconfirmation page ------------------------------------

def reconfirmation(engine: Engine, caller: Caller) -> dict[str, Any]:
    """Every account, those due for this quarter's reconfirmation first (``users.manage``)."""
    authorize(engine, caller, PERMISSION, "account.reconfirm_view")
    today = datetime.now(UTC).date()
    rows = sorted(states(engine), key=lambda s: (not s.due, s.username))
    return {"rows": rows, "deadline": quarter_end(today), "quarter_start": quarter_start(today)}


def _user_id(engine: Engine, username: str) -> int:
    try:
        return int(user_repo.get(engine, username)["id"])
    except NotFound:
        raise ValidationError("username", f"no user {username}") from None


def confirm(engine: Engine, caller: Caller, username: str) -> None:
    """Reconfirm that an account is still needed, for this quarter (audited)."""
    authorize(engine, caller, PERMISSION, "account.reconfirm", data={"username": username})
    user_id = _user_id(engine, username)
    repo.confirm(engine, user_id, actor=caller.username, now=datetime.now(UTC))
    record(engine, caller, "account.reconfirm", data={"username": username})


def reinstate(engine: Engine, caller: Caller, username: str, reason: str) -> None:
    """Lift an account's suspension, with the reason (audited)."""
    authorize(engine, caller, PERMISSION, "account.reinstate", data={"username": username})
    user_id = _user_id(engine, username)
    why = required_text("reason", reason, 300)
    if not repo.reinstate(engine, user_id, actor=caller.username, now=datetime.now(UTC)):
        raise ValidationError("username", f"{username} is not suspended")
    record(engine, caller, "account.reinstate", data={"username": username, "reason": why})
