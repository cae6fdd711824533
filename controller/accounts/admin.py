"""User administration (462.3.1, 462.4.1): the administrator's use cases over accounts.

Every function needs ``users.manage`` (administrators only) and current training;
a refusal is audited under the action it would have taken. The account changes
themselves are audited by ``controller.accounts.users``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from controller import policy
from controller.accounts import Caller, authorize, users
from controller.errors import ValidationError
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.records import UserRow
from controller.validation import required_day

PERMISSION = "users.manage"
ALERT_DAYS = 30


def training_state(rules: SecuritySettings, completed: date | None) -> str:
    """``none``, ``current`` or ``expired`` for a user's last training date."""
    if completed is None:
        return "none"
    if policy.training_current(completed, datetime.now(UTC).date(), rules.training_valid_days):
        return "current"
    return "expired"


def overview(engine: Engine, rules: SecuritySettings, caller: Caller) -> dict[str, Any]:
    """Every account with training and lock state, compromise alerts, the current policy."""
    authorize(engine, caller, PERMISSION, "user.list")
    latest = account_repo.latest_training_by_user(engine)
    now = datetime.now(UTC)
    rows = []
    for user in users.list_users(engine):
        completed = latest.get(int(user["id"]))
        locked = user["locked_until"] is not None and user["locked_until"] > now
        rows.append({**user, "training": training_state(rules, completed),
                     "completed": completed, "locked": locked})
    alerts = [dict(r) for r in audit_repo.search(engine, action="account.compromised",
                                                 since=now - timedelta(days=ALERT_DAYS),
                                                 limit=20)]
    return {"rows": rows, "alerts": alerts, "policy": account_repo.current_policy(engine)}


def account(engine: Engine, rules: SecuritySettings, caller: Caller,
            username: str) -> dict[str, Any]:
    """One account: the user, training records and state, their latest audit entries."""
    authorize(engine, caller, PERMISSION, "user.view", data={"username": username})
    user = user_repo.get(engine, username).copy()
    records = account_repo.list_training(engine, int(user["id"]))
    state = training_state(rules, records[0]["completed_on"] if records else None)
    return {"user": user, "records": records, "state": state,
            "events": audit_repo.search(engine, actor=username, limit=15)}


def _target(engine: Engine, caller: Caller, action: str, username: str) -> UserRow:
    authorize(engine, caller, PERMISSION, action, data={"username": username})
    return user_repo.get(engine, username)  # NotFound before any field is checked


def add_account(engine: Engine, rules: SecuritySettings, caller: Caller, *, username: str,
                role: str, password: str, full_name: str = "") -> int:
    """Create an account with a temporary password the user replaces at first login."""
    authorize(engine, caller, PERMISSION, "user.add", data={"username": username})
    return users.add_user(engine, rules, username=username.strip(), role=role,
                          password=password, full_name=full_name.strip(), must_change=True,
                          **caller.who())


def change_role(engine: Engine, caller: Caller, username: str, role: str) -> None:
    """Give an account another role."""
    _target(engine, caller, "user.role", username)
    users.set_role(engine, username=username, role=role, **caller.who())


def set_account_enabled(engine: Engine, caller: Caller, username: str, enabled: bool) -> None:
    """Enable or disable an account (never one's own: someone must be able to undo it)."""
    user = _target(engine, caller, "user.enable" if enabled else "user.disable", username)
    if not enabled and user["username"] == caller.username:
        raise ValidationError("enabled", "you cannot disable your own account")
    users.set_enabled(engine, username=username, enabled=enabled, **caller.who())


def unlock_account(engine: Engine, caller: Caller, username: str) -> None:
    """Lift a lockout before it expires."""
    _target(engine, caller, "user.unlock", username)
    users.unlock(engine, username=username, **caller.who())


def reset_second_factor(engine: Engine, caller: Caller, username: str) -> None:
    """Forget the account's authenticator; the user enrols again at next login."""
    _target(engine, caller, "user.totp_reset", username)
    users.reset_totp(engine, username=username, **caller.who())


def set_second_factor_exempt(engine: Engine, caller: Caller, username: str, exempt: bool,
                             reason: str) -> None:
    """Exempt an account from the second factor, or end the exemption (with a reason)."""
    _target(engine, caller, "user.totp_exempt", username)
    users.set_totp_exempt(engine, username=username, exempt=exempt, reason=reason,
                          **caller.who())


def set_temporary_password(engine: Engine, rules: SecuritySettings, caller: Caller,
                           username: str, password: str) -> None:
    """Set a temporary password the user must replace at next login."""
    _target(engine, caller, "user.password", username)
    users.reset_password(engine, rules, username=username, password=password,
                         must_change=True, **caller.who())


def record_training(engine: Engine, caller: Caller, username: str, *, course: str,
                    completed_on: str, trainer: str) -> int:
    """Record a completed ALPR training: course, date (YYYY-MM-DD), trainer (462.4.1)."""
    _target(engine, caller, "training.record", username)
    return users.record_training(engine, username=username, course=course,
                                 completed_on=required_day("completed_on", completed_on),
                                 trainer=trainer, **caller.who())


def publish_policy(engine: Engine, caller: Caller, *, version: str, title: str,
                   adopted_on: str, text: str) -> int:
    """Publish a policy version as text; every user acknowledges it before going on."""
    authorize(engine, caller, PERMISSION, "policy.publish", data={"version": version})
    return users.publish_policy(engine, version=version, title=title,
                                adopted_on=required_day("adopted_on", adopted_on),
                                text=text, **caller.who())
