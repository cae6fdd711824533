"""User accounts (policy 462.4, 462.5.1): named accounts, CJIS passwords, audited changes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from argon2 import PasswordHasher

from controller import audit, policy
from controller.errors import Conflict, NotFound, ValidationError
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import users as repo
from controller.validation import required_text


@dataclass(frozen=True)
class Missing:
    """One thing a user must do before any data or control route opens (462.4.1)."""

    code: str
    message: str


# argon2id with the library's RFC 9106 low-memory profile (64 MiB, t=3, p=4).
HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return HASHER.hash(password)


def add_user(engine: Engine, rules: SecuritySettings, *, username: str, role: str,
             password: str, actor: str, full_name: str = "",
             client_addr: str | None = None, must_change: bool = False) -> int:
    """Create a user after checking name, role and password; audit the outcome.

    ``must_change`` makes the password temporary: the user replaces it at first login.
    """
    problems = policy.check_username(username) + policy.check_role(role)
    problems += policy.check_password(password, username, rules)
    if problems:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="user.add", outcome="denied", client_addr=client_addr,
            data={"username": username, "role": role, "reasons": problems}))
        field = ("password" if any("password" in p for p in problems)
                 else "role" if policy.check_role(role) else "user")
        raise ValidationError(field, "; ".join(problems))
    user_id = repo.create(
        engine, username=username, role=role, password_hash=hash_password(password),
        full_name=full_name, created_by=actor, now=datetime.now(UTC), must_change=must_change)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="user.add", client_addr=client_addr,
        data={"username": username, "role": role, "user_id": user_id}))
    return user_id


def disable_user(engine: Engine, *, username: str, actor: str,
                 client_addr: str | None = None) -> None:
    """Disable a user (accounts are never deleted: the audit log names them)."""
    try:
        repo.get(engine, username)
    except NotFound:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="user.disable", outcome="denied", client_addr=client_addr,
            data={"username": username, "reason": "no such user"}))
        raise
    changed = repo.set_disabled(engine, username, True)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="user.disable", client_addr=client_addr,
        data={"username": username, "changed": changed}))


def list_users(engine: Engine) -> list[Mapping[str, Any]]:
    """Return every user (without secrets)."""
    secret = {"password_hash", "totp_secret", "totp_sealed"}
    return [{k: v for k, v in row.items() if k not in secret} for row in repo.list_all(engine)]


def reset_password(engine: Engine, rules: SecuritySettings, *, username: str, password: str,
                   actor: str, client_addr: str | None = None, must_change: bool = False) -> None:
    """Set a new password after the CJIS checks, refusing any of the last N passwords.

    ``must_change`` marks a temporary password the user has to replace at next login.
    """
    user = repo.get(engine, username)
    problems = policy.check_password(password, username, rules)
    recent = repo.recent_password_hashes(engine, int(user["id"]), rules.password_history)
    if any(verify_password(old, password) for old in recent):
        problems.append(f"password was used within the last {rules.password_history} changes")
    if problems:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="user.password", outcome="denied", client_addr=client_addr,
            data={"username": username, "reasons": problems}))
        raise ValidationError("password", "; ".join(problems))
    repo.set_password(engine, int(user["id"]), hash_password(password), datetime.now(UTC),
                      must_change=must_change)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="user.password", client_addr=client_addr,
        data={"username": username, "temporary": must_change}))


def verify_password(stored_hash: str, password: str) -> bool:
    """Tell whether ``password`` matches an argon2 hash (never raises on a mismatch)."""
    try:
        return HASHER.verify(stored_hash, password)
    except Exception:  # argon2 raises VerifyMismatchError and friends on "no"
        return False


# --- administration (policy 462.3.1: only the administrator manages users) ---------------

def _audit(engine: Engine, actor: str, action: str, client_addr: str | None,
           outcome: audit.Outcome = "allowed", **data: Any) -> None:
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, outcome=outcome,
                                          client_addr=client_addr, data=data))


def set_role(engine: Engine, *, username: str, role: str, actor: str,
             client_addr: str | None = None) -> None:
    """Change a user's role."""
    problems = policy.check_role(role)
    if problems:
        raise ValidationError("role", problems[0])
    user = repo.get(engine, username)
    account_repo.set_user_flags(engine, int(user["id"]), role=role)
    _audit(engine, actor, "user.role", client_addr, username=username,
           before=user["role"], after=role)


def set_enabled(engine: Engine, *, username: str, enabled: bool, actor: str,
                client_addr: str | None = None) -> None:
    """Enable or disable an account; disabling ends its sessions."""
    user = repo.get(engine, username)
    account_repo.set_user_flags(engine, int(user["id"]), disabled=not enabled)
    if not enabled:
        account_repo.end_user_sessions(engine, int(user["id"]), datetime.now(UTC),
                                       "account disabled")
    _audit(engine, actor, "user.enable" if enabled else "user.disable", client_addr,
           username=username)


def unlock(engine: Engine, *, username: str, actor: str, client_addr: str | None = None) -> None:
    """Lift every lockout of the account before it expires: each address's and the ceiling's."""
    user = repo.get(engine, username)
    account_repo.set_failed_logins(engine, int(user["id"]), 0, None)
    account_repo.throttle_clear(engine, str(user["username"]))
    _audit(engine, actor, "user.unlock", client_addr, username=username)


def reset_totp(engine: Engine, *, username: str, actor: str,
               client_addr: str | None = None) -> None:
    """Forget the user's second factor: they enrol a new one at next login."""
    user = repo.get(engine, username)
    account_repo.set_totp(engine, int(user["id"]), None, enrolled=False)
    account_repo.end_user_sessions(engine, int(user["id"]), datetime.now(UTC),
                                   "second factor reset")
    _audit(engine, actor, "user.totp_reset", client_addr, username=username)


def set_totp_exempt(engine: Engine, *, username: str, exempt: bool, reason: str, actor: str,
                    client_addr: str | None = None) -> None:
    """Exempt one user from the second factor (or end the exemption), with a reason."""
    reason = required_text("reason", reason, 300)
    user = repo.get(engine, username)
    account_repo.set_user_flags(engine, int(user["id"]), totp_exempt=exempt)
    _audit(engine, actor, "user.totp_exempt", client_addr, username=username,
           exempt=exempt, reason=reason)


def record_training(engine: Engine, *, username: str, course: str, completed_on: date,
                    trainer: str, actor: str, client_addr: str | None = None,
                    today: date | None = None) -> int:
    """Record an ALPR training (462.4.1): course, completion date, trainer."""
    course = required_text("course", course, 200)
    trainer = required_text("trainer", trainer, 200)
    if completed_on > (today or datetime.now(UTC).date()):
        raise ValidationError("completed_on", "the completion date is in the future")
    user = repo.get(engine, username)
    record_id = account_repo.add_training(
        engine, user_id=int(user["id"]), course=course, completed_on=completed_on,
        trainer=trainer, recorded_by=actor, now=datetime.now(UTC))
    forget_training_state(int(user["id"]))
    _audit(engine, actor, "training.record", client_addr, username=username, course=course,
           completed_on=completed_on.isoformat(), trainer=trainer)
    return record_id


# Training and acknowledgement change rarely but are checked on every request: the
# answer is kept per user for a few seconds, and dropped at once when this process
# records training, an acknowledgement or a new policy version.
TRAINING_CACHE_SECONDS = 30.0
_training_cache: dict[tuple[str, int], tuple[float, list[Any]]] = {}


def forget_training_state(user_id: int | None = None) -> None:
    """Drop cached training answers (one user's, or everyone's)."""
    if user_id is None:
        _training_cache.clear()
        return
    for key in [k for k in _training_cache if k[1] == user_id]:
        _training_cache.pop(key, None)


def training_missing(engine: Engine, rules: SecuritySettings, user: Mapping[str, Any],
                     now: datetime) -> list[Any]:
    """Training and policy items the user lacks, as ``Missing`` values."""
    # Keyed by database too: one process may serve (or test) several.
    key = (str(engine.url), int(user["id"]))
    cached = _training_cache.get(key)
    if cached is not None and time.monotonic() < cached[0]:
        return list(cached[1])
    missing = _training_missing(engine, rules, user, now)
    _training_cache[key] = (time.monotonic() + TRAINING_CACHE_SECONDS, missing)
    return list(missing)


def _training_missing(engine: Engine, rules: SecuritySettings, user: Mapping[str, Any],
                      now: datetime) -> list[Any]:

    missing = []
    records = account_repo.list_training(engine, int(user["id"]))
    completed = records[0]["completed_on"] if records else None
    if not policy.training_current(completed, now.date(), rules.training_valid_days):
        why = ("No ALPR training is recorded for you." if completed is None else
               f"Your ALPR training of {completed:%Y-%m-%d} is no longer current "
               f"(valid {rules.training_valid_days} days).")
        missing.append(Missing("training", why + " The ALPR administrator records training."))
    current = account_repo.current_policy(engine)
    if current is not None and not account_repo.acknowledged(engine, int(user["id"]),
                                                             int(current["id"])):
        missing.append(Missing("policy", f"Read and acknowledge policy version "
                                         f"{current['version']} ({current['title']})."))
    return missing


def acknowledge_policy(engine: Engine, *, user: Mapping[str, Any], policy_id: int,
                       client_addr: str | None = None) -> None:
    """Record that the user read and acknowledged the current policy version."""
    current = account_repo.current_policy(engine)
    if current is None or int(current["id"]) != policy_id:
        raise ValidationError("policy", "that is not the current policy version")
    account_repo.acknowledge(engine, int(user["id"]), policy_id, datetime.now(UTC))
    forget_training_state(int(user["id"]))
    _audit(engine, str(user["username"]), "policy.acknowledge", client_addr,
           version=current["version"], sha256=current["sha256"])


def publish_policy(engine: Engine, *, version: str, title: str, adopted_on: date,
                   text: str, actor: str, client_addr: str | None = None) -> int:
    """Publish a new policy version; every user must acknowledge it (462.9, 462.13)."""
    version = required_text("version", version, 32)
    title = required_text("title", title, 200)
    body = required_text("text", text, 1_000_000).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    try:
        policy_id = account_repo.publish_policy(
            engine, version=version, title=title, adopted_on=adopted_on, content=body,
            content_type="text/plain; charset=utf-8", sha256=digest, published_by=actor,
            now=datetime.now(UTC))
    except Conflict:
        raise ValidationError("version", f"version '{version}' is already published") from None
    forget_training_state()
    _audit(engine, actor, "policy.publish", client_addr, version=version, sha256=digest)
    return policy_id
