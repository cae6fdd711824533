"""Logins and sessions (policy 462.5.1, 462.5.2, CJIS): lockout, TOTP, one session per user.

Every outcome here is written to the audit log: failed and successful logins,
lockouts, second-factor enrolment and failures, idle locks, logouts, password
changes and compromise reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pyotp

from controller import audit, policy
from controller.accounts import dormancy, users
from controller.accounts.users import Missing
from controller.errors import AccessDenied, NotFound, ValidationError
from controller.sealing import instance_secret_for, seal_totp, unseal_totp
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import accounts as repo
from controller.store import cli_tokens as token_repo
from controller.store import users as user_repo
from controller.store.records import UserRow

# UserRow is re-exported: the web names the user it signs in without importing the store.
__all__ = ["ALL_SOURCES", "NO_SOURCE", "SOURCE_LIMIT", "TOTP_DIGITS", "UNKNOWN_NAME_LIMIT",
           "LoginRefused", "UserRow", "begin_enrolment", "change_password", "check_password",
           "check_totp", "logout", "missing_for_access", "open_session", "provisioning_uri",
           "report_compromised", "resume_session", "second_factor", "session_id",
           "totp_secret"]

TOTP_DIGITS = 6
# Longest unknown username kept in the audit log (the actor column's width).
UNKNOWN_NAME_LIMIT = 64
# Throttle keys: the failures of a name from every address together, and from no address.
ALL_SOURCES = "*"
NO_SOURCE = "(none)"
SOURCE_LIMIT = 64


class LoginRefused(AccessDenied):
    """A login step failed; the message is safe to show (it never says which part)."""


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verifying against this for unknown names keeps their timing like a wrong password.
    return users.hash_password(secrets.token_hex(16))


def _event(engine: Engine, actor: str, action: str, client_addr: str | None,
           outcome: audit.Outcome = "allowed", **data: Any) -> None:
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, outcome=outcome,
                                          client_addr=client_addr, data=data))


def _source(client_addr: str | None) -> str:
    return (client_addr or NO_SOURCE)[:SOURCE_LIMIT]


def _locked_message(rules: SecuritySettings, until: datetime) -> str:
    # One wording for every lock, of a real account or of a name nobody has.
    return (f"account locked after {rules.lockout_attempts} failed attempts; "
            f"try again after {until:%H:%M} UTC")


def check_password(engine: Engine, rules: SecuritySettings, username: str, password: str,
                   *, client_addr: str | None, now: datetime | None = None) -> UserRow:
    """First login step: return the user if the password is right and the account usable.

    Failures are counted per typed name and client address: ``rules.lockout_attempts``
    in a row lock the name for that address (``rules.lockout_minutes``), so a stranger
    elsewhere cannot lock its owner out; ``rules.lockout_ceiling`` from all addresses
    together lock it for everyone. Unknown names are counted the same way, and the
    password hash is verified on every path, so a locked account, an unknown name and
    a wrong password cannot be told apart by their answer or its time.
    """
    when = _now(now)
    known = bool(policy.USERNAME.match(username))
    # What was typed is untrusted: bounded and escaped before it is a key or the actor.
    name = username if known else (audit.neutralise(username, UNKNOWN_NAME_LIMIT) or "(blank)")
    user = None
    if known:  # a name no account can have (too long, NUL bytes...) is not looked up
        with contextlib.suppress(NotFound):
            user = user_repo.get(engine, username).copy()
    right = users.verify_password(user["password_hash"] if user else _dummy_hash(), password)
    locked = repo.throttle_lock(engine, name, (_source(client_addr), ALL_SOURCES), when)
    if locked is not None:
        _event(engine, name, "login.failed", client_addr, "denied", reason="locked",
               locked_until=locked.isoformat(), known=user is not None)
        raise LoginRefused(_locked_message(rules, locked))
    if user is None or not right:
        extra: dict[str, Any] = {} if user else {"typed_length": len(username)}
        _count_failure(engine, rules, name, user=user, client_addr=client_addr, when=when,
                       reason="wrong password" if user else "unknown user", **extra)
        raise LoginRefused("wrong username or password")
    if user["disabled"]:
        _event(engine, username, "login.failed", client_addr, "denied", reason="disabled")
        raise LoginRefused("this account is disabled; ask the ALPR administrator")
    suspended = dormancy.suspension(engine, int(user["id"]))
    if suspended is not None:
        _event(engine, username, "login.failed", client_addr, "denied", reason="suspended",
               suspension=suspended)
        raise LoginRefused(f"this account is suspended ({suspended}); ask the ALPR "
                           "administrator to reinstate it")
    if second_factor(user) is None:
        # The whole login succeeded; with a second factor to come, failed codes keep
        # adding to failed passwords until a code is right (check_totp clears then).
        _clear_failures(engine, user, client_addr)
    _event(engine, username, "login.password", client_addr)
    return user


def _clear_failures(engine: Engine, user: UserRow, client_addr: str | None) -> None:
    """A whole login succeeded: this address's count and the account-wide count restart."""
    repo.throttle_clear(engine, str(user["username"]), (_source(client_addr), ALL_SOURCES))
    if user["failed_logins"] or user["locked_until"] is not None:
        repo.set_failed_logins(engine, int(user["id"]), 0, None)
        user.update({"failed_logins": 0, "locked_until": None})


def _count_failure(engine: Engine, rules: SecuritySettings, name: str, *,
                   user: UserRow | None, client_addr: str | None, when: datetime,
                   action: str = "login.failed", reason: str = "wrong password",
                   **data: Any) -> None:
    """Count one failure for this address and for the account; lock at either limit."""
    until = when + timedelta(minutes=rules.lockout_minutes)
    attempt, source_lock = repo.throttle_failure(
        engine, name, _source(client_addr), when, limit=rules.lockout_attempts, lock_until=until)
    total, account_lock = repo.throttle_failure(
        engine, name, ALL_SOURCES, when, limit=rules.lockout_ceiling, lock_until=until)
    if user is not None:
        # Shown to administrators on the user's page: the account-wide count and lock.
        repo.set_failed_logins(engine, int(user["id"]), 0 if account_lock else total,
                               account_lock)
    _event(engine, name, action, client_addr, "denied", reason=reason, attempt=attempt,
           **data)
    for scope, lock, attempts in (("address", source_lock, attempt),
                                  ("account", account_lock, total)):
        if lock is not None:
            _event(engine, name, "login.lockout", client_addr, "denied", scope=scope,
                   locked_until=lock.isoformat(), attempts=attempts)


def second_factor(user: UserRow) -> str | None:
    """Say what the second step is: ``"enrol"``, ``"verify"`` or None (exempted)."""
    if user["totp_exempt"]:
        return None
    has_secret = user["totp_sealed"] or user["totp_secret"]
    return "verify" if user["totp_enrolled"] and has_secret else "enrol"


def totp_secret(engine: Engine, user: UserRow) -> str | None:
    """The user's TOTP secret in clear (it is stored sealed with the instance key)."""
    if user["totp_sealed"]:
        return unseal_totp(instance_secret_for(engine), str(user["totp_sealed"]))
    # Stored in plain base32 before secrets were sealed: sealed at its next use.
    return str(user["totp_secret"]) if user["totp_secret"] else None


def begin_enrolment(engine: Engine, user: UserRow) -> str:
    """Give the user a fresh TOTP secret (kept, sealed, until the first code proves it)."""
    if user["totp_enrolled"]:
        raise ValidationError("totp", "the second factor is already enrolled")
    secret = totp_secret(engine, user)
    if secret is None:
        secret = pyotp.random_base32()
        repo.set_sealed_totp(engine, int(user["id"]),
                             seal_totp(instance_secret_for(engine), secret), enrolled=False)
    return secret


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app imports."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer))


def _matching_step(secret: str, code: str, when: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    # One step either side tolerates a patrol laptop's clock being 30 s off.
    for offset in (-1, 0, 1):
        moment = when + timedelta(seconds=30 * offset)
        if hmac.compare_digest(totp.at(moment), code):
            return int(totp.timecode(moment))
    return None


def check_totp(engine: Engine, user_id: int, code: str, client_addr: str | None,
               now: datetime | None = None, *,
               rules: SecuritySettings | None = None) -> UserRow:
    """Second login step: accept a current, never-used code; finish enrolment if pending.

    A wrong or reused code is a failed login: it counts toward the lockout like
    a wrong password (``rules``, default the CJIS limits: 5 attempts, 10
    minutes), and a locked account is refused even the right code.
    """
    rules = rules or SecuritySettings()
    when = _now(now)
    user = repo.get_user_by_id(engine, user_id)
    username = str(user["username"])
    locked = repo.throttle_lock(engine, username, (_source(client_addr), ALL_SOURCES), when)
    if locked is not None:
        _event(engine, username, "login.totp_failed", client_addr, "denied",
               reason="account locked", locked_until=locked.isoformat())
        raise LoginRefused(_locked_message(rules, locked))
    code = code.strip().replace(" ", "")
    secret = totp_secret(engine, user)
    step = None
    if secret and code.isdigit() and len(code) == TOTP_DIGITS:
        step = _matching_step(secret, code, when)
    if step is None or not repo.claim_totp_step(engine, user_id, step):
        _count_failure(engine, rules, username, user=user, client_addr=client_addr, when=when,
                       action="login.totp_failed", reason="wrong or reused code")
        raise LoginRefused("that code is not valid; enter the current 6-digit code")
    _clear_failures(engine, user, client_addr)
    assert secret is not None  # a step matched
    if not user["totp_enrolled"]:
        repo.set_sealed_totp(engine, user_id, seal_totp(instance_secret_for(engine), secret),
                             enrolled=True)
        repo.claim_totp_step(engine, user_id, step)
        _event(engine, username, "login.totp_enrolled", client_addr)
    elif not user["totp_sealed"]:
        repo.reseal_totp(engine, user_id, seal_totp(instance_secret_for(engine), secret))
    return user


def session_id(token: str) -> str:
    """The stored id of a session token (only its SHA-256 is kept)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def open_session(engine: Engine, user: UserRow, client_addr: str | None,
                 now: datetime | None = None) -> str:
    """Open the user's one session (ending any other) and return its token."""
    token = secrets.token_urlsafe(32)
    ended = repo.start_session(engine, session_id(token), int(user["id"]), _now(now),
                               client_addr)
    _event(engine, str(user["username"]), "login", client_addr, sessions_ended=ended,
           second_factor="exempt" if user["totp_exempt"] else "totp")
    if ended:
        # One session per user (462.5.1): the earlier session ends with this login.
        _event(engine, str(user["username"]), "session.replaced", client_addr,
               sessions_ended=ended)
    return token


def resume_session(engine: Engine, rules: SecuritySettings, token: str,
                   client_addr: str | None, now: datetime | None = None
                   ) -> tuple[UserRow | None, str]:
    """Return ``(user, "")`` for a live session, else ``(None, why it is not)``.

    A session idle for ``rules.idle_timeout_minutes`` is locked (ended, audited).
    """
    when = _now(now)
    sid = session_id(token)
    found = repo.session_and_user(engine, sid)
    if found is None:
        return None, "no such session"
    row, user = found
    if row["ended_at"] is not None:
        return None, str(row["end_reason"] or "session ended")
    if when - row["last_seen_at"] > timedelta(minutes=rules.idle_timeout_minutes):
        reason = f"locked after {rules.idle_timeout_minutes} idle minutes"
        repo.end_session(engine, sid, when, reason)
        _event(engine, str(user["username"]), "session.locked", client_addr, reason=reason)
        return None, reason
    if user["disabled"]:
        repo.end_session(engine, sid, when, "account disabled")
        return None, "account disabled"
    if dormancy.suspension(engine, int(user["id"])) is not None:
        repo.end_session(engine, sid, when, "account suspended")
        return None, "account suspended"
    # One write a minute is enough to measure 30 idle minutes.
    if when - row["last_seen_at"] > timedelta(seconds=60):
        repo.touch_session(engine, sid, when)
    return user, ""


def logout(engine: Engine, token: str, username: str, client_addr: str | None) -> None:
    """End a session at the user's request."""
    if repo.end_session(engine, session_id(token), _now(None), "logout"):
        _event(engine, username, "logout", client_addr)


def change_password(engine: Engine, rules: SecuritySettings, user: UserRow,
                    current: str, new: str, *, client_addr: str | None) -> None:
    """Change one's own password after proving the current one (history rules apply)."""
    username = str(user["username"])
    if not users.verify_password(str(user["password_hash"]), current):
        _event(engine, username, "user.password", client_addr, "denied",
               username=username, reasons=["current password is wrong"])
        raise ValidationError("current_password", "the current password is wrong")
    users.reset_password(engine, rules, username=username, password=new, actor=username,
                         client_addr=client_addr)


def report_compromised(engine: Engine, user: UserRow, client_addr: str | None) -> int:
    """The user believes the password is known to someone (462.5.2(2)).

    Forces a password change, ends every session of the user and alerts the
    administrator (the audit entry is listed on the administrator's pages).
    """
    user_id = int(user["id"])
    repo.set_user_flags(engine, user_id, must_change_password=True)
    ended = repo.end_user_sessions(engine, user_id, _now(None), "password reported compromised")
    # Command-line sign-ins end too: the password that made them is no longer trusted.
    revoked = token_repo.revoke_user(engine, user_id, _now(None), "password reported compromised")
    _event(engine, str(user["username"]), "account.compromised", client_addr,
           username=user["username"], sessions_ended=ended, cli_tokens_revoked=revoked,
           alert="administrator")
    return ended


def missing_for_access(engine: Engine, rules: SecuritySettings, user: UserRow,
                       now: datetime | None = None) -> list[Missing]:
    """What keeps the user from data and control routes (empty when nothing does)."""
    when = _now(now)
    missing: list[Missing] = []
    if user["must_change_password"]:
        missing.append(Missing("password", "You must choose a new password."))
    elif user["password_changed_at"] + timedelta(days=rules.password_max_age_days) <= when:
        missing.append(Missing("password", f"Your password is older than "
                                           f"{rules.password_max_age_days} days; change it."))
    missing.extend(users.training_missing(engine, rules, user, when))
    return missing
