"""Repository functions for command-line sign-in tokens (only their SHA-256 is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, select, update

from controller.store.records import UserRow
from controller.store.schema import cli_tokens, users


def add(engine: Engine, token_id: str, user_id: int, *, now: datetime, expires_at: datetime,
        client_addr: str | None) -> None:
    """Store a new token's hash with its expiry."""
    with engine.begin() as conn:
        conn.execute(cli_tokens.insert().values(
            id=token_id, user_id=user_id, created_at=now, expires_at=expires_at,
            client_addr=client_addr))


def token_and_user(engine: Engine, token_id: str) -> tuple[dict[str, Any], UserRow] | None:
    """Return a token's state and its user's row in one query, or None."""
    state = ("expires_at", "revoked_at", "revoke_reason", "last_used_at")
    with engine.connect() as conn:
        row = conn.execute(
            select(*(cli_tokens.c[name] for name in state), users)
            .join(users, users.c.id == cli_tokens.c.user_id)
            .where(cli_tokens.c.id == token_id)).mappings().first()
    if row is None:
        return None
    data = dict(row)
    token = {k: data.pop(k) for k in state}
    return token, cast("UserRow", data)


def touch(engine: Engine, token_id: str, now: datetime) -> None:
    """Record that a command used the token."""
    with engine.begin() as conn:
        conn.execute(update(cli_tokens).where(cli_tokens.c.id == token_id)
                     .values(last_used_at=now))


def revoke(engine: Engine, token_id: str, now: datetime, reason: str) -> bool:
    """Revoke one live token; return whether it was live."""
    with engine.begin() as conn:
        result = conn.execute(
            update(cli_tokens).where(cli_tokens.c.id == token_id,
                                     cli_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason))
    return result.rowcount > 0


def revoke_user(engine: Engine, user_id: int, now: datetime, reason: str) -> int:
    """Revoke every unrevoked token of a user; return how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(cli_tokens).where(cli_tokens.c.user_id == user_id,
                                     cli_tokens.c.revoked_at.is_(None),
                                     cli_tokens.c.expires_at > now)
            .values(revoked_at=now, revoke_reason=reason))
    return int(result.rowcount)


def administrators(engine: Engine) -> int:
    """How many administrator accounts exist, disabled ones included."""
    with engine.connect() as conn:
        rows = conn.execute(select(users.c.id).where(users.c.role == "administrator")).all()
    return len(rows)
