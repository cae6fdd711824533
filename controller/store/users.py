"""Repository functions for user accounts and their password history."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from controller.errors import NotFound, ValidationError
from controller.store.records import UserRow
from controller.store.schema import password_history, users


def create(engine: Engine, *, username: str, role: str, password_hash: str, full_name: str,
           created_by: str, now: datetime, must_change: bool = False) -> int:
    """Insert a user with its first password-history entry; return the new id."""
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                users.insert().values(
                    username=username, role=role, full_name=full_name,
                    password_hash=password_hash, password_changed_at=now,
                    must_change_password=must_change, totp_enrolled=False, totp_exempt=False,
                    failed_logins=0, disabled=False, created_at=now, created_by=created_by,
                ).returning(users.c.id)
            ).scalar_one()
            conn.execute(password_history.insert().values(
                user_id=user_id, password_hash=password_hash, created_at=now))
    except IntegrityError:
        raise ValidationError("username", f"user '{username}' already exists") from None
    return int(user_id)


def get(engine: Engine, username: str) -> UserRow:
    """Return one user by name or raise NotFound."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None:
        raise NotFound(f"no user named '{username}'")
    return cast("UserRow", dict(row))


def list_all(engine: Engine) -> list[UserRow]:
    """Return every user, ordered by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
    return [cast("UserRow", dict(r)) for r in rows]


def set_disabled(engine: Engine, username: str, disabled: bool) -> bool:
    """Disable or enable a user; return whether anything changed."""
    with engine.begin() as conn:
        result = conn.execute(
            update(users).where(users.c.username == username, users.c.disabled != disabled)
            .values(disabled=disabled)
        )
    return result.rowcount > 0


def recent_password_hashes(engine: Engine, user_id: int, limit: int) -> list[str]:
    """Return the user's last ``limit`` password hashes, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(password_history.c.password_hash)
            .where(password_history.c.user_id == user_id)
            .order_by(password_history.c.id.desc()).limit(limit)
        ).scalars().all()
    return list(rows)


def set_password(engine: Engine, user_id: int, password_hash: str, now: datetime,
                 must_change: bool = False) -> None:
    """Store a new password hash and remember it in the history."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(
            password_hash=password_hash, password_changed_at=now,
            must_change_password=must_change, failed_logins=0, locked_until=None))
        conn.execute(password_history.insert().values(
            user_id=user_id, password_hash=password_hash, created_at=now))
