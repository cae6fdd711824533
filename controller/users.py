"""User accounts (policy 462.4, 462.5.1): named accounts, CJIS passwords, audited changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine

from controller import audit, policy
from controller.errors import NotFound, ValidationError
from controller.settings import SecuritySettings
from controller.store import users as repo

# argon2id with the library's RFC 9106 low-memory profile (64 MiB, t=3, p=4).
HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return HASHER.hash(password)


def add_user(engine: Engine, rules: SecuritySettings, *, username: str, role: str,
             password: str, actor: str, full_name: str = "",
             client_addr: str | None = None) -> int:
    """Create a user after checking name, role and password; audit the outcome."""
    problems = policy.check_username(username) + policy.check_role(role)
    problems += policy.check_password(password, username, rules)
    if problems:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="user.add", outcome="denied", client_addr=client_addr,
            data={"username": username, "role": role, "reasons": problems}))
        field = "password" if any("password" in p for p in problems) else "user"
        raise ValidationError(field, "; ".join(problems))
    user_id = repo.create(
        engine, username=username, role=role, password_hash=hash_password(password),
        full_name=full_name, created_by=actor, now=datetime.now(UTC))
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
    secret = {"password_hash", "totp_secret"}
    return [{k: v for k, v in row.items() if k not in secret} for row in repo.list_all(engine)]


def reset_password(engine: Engine, rules: SecuritySettings, *, username: str, password: str,
                   actor: str, client_addr: str | None = None) -> None:
    """Set a new password after the CJIS checks, refusing any of the last N passwords."""
    user = repo.get(engine, username)
    problems = policy.check_password(password, username, rules)
    recent = repo.recent_password_hashes(engine, int(user["id"]), rules.password_history)
    if any(_matches(old, password) for old in recent):
        problems.append(f"password was used within the last {rules.password_history} changes")
    if problems:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="user.password", outcome="denied", client_addr=client_addr,
            data={"username": username, "reasons": problems}))
        raise ValidationError("password", "; ".join(problems))
    repo.set_password(engine, int(user["id"]), hash_password(password), datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="user.password", client_addr=client_addr,
        data={"username": username}))


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except Exception:  # argon2 raises VerifyMismatchError and friends on "no"
        return False
