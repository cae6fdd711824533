"""Repository functions for account suspension, reinstatement and quarterly reconfirmation
(462.4; the State Auditor's report 2019-118)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Connection, Engine, func, select, update

from controller.store.engine import reading
from controller.store.schema import account_status, user_sessions


class StatusRow(TypedDict):
    """One row of ``account_status``."""

    user_id: int
    suspended_at: datetime | None
    suspended_reason: str | None
    suspended_by: str | None
    reinstated_at: datetime | None
    reinstated_by: str | None
    confirmed_at: datetime | None
    confirmed_by: str | None


def last_logins(engine: Engine) -> dict[int, datetime]:
    """Each user's last sign-in (the start of their newest session)."""
    query = select(user_sessions.c.user_id, func.max(user_sessions.c.created_at)).group_by(
        user_sessions.c.user_id)
    with engine.connect() as conn:
        return {int(u): at for u, at in conn.execute(query).all()}


def statuses(engine: Engine) -> dict[int, StatusRow]:
    """Every account's status row, by user id (accounts without one are absent)."""
    with engine.connect() as conn:
        rows = conn.execute(select(account_status)).mappings().all()
    return {int(r["user_id"]): cast("StatusRow", dict(r)) for r in rows}


def get(engine: Engine, user_id: int) -> StatusRow | None:
    """One account's status row, if any."""
    with reading(engine) as conn:
        row = conn.execute(select(account_status).where(
            account_status.c.user_id == user_id)).mappings().first()
    return cast("StatusRow", dict(row)) if row else None


def _upsert(conn: Connection, user_id: int, values: dict[str, Any]) -> None:
    have = conn.execute(select(account_status.c.user_id).where(
        account_status.c.user_id == user_id)).first()
    if have is None:
        conn.execute(account_status.insert().values(user_id=user_id, **values))
    else:
        conn.execute(update(account_status).where(account_status.c.user_id == user_id)
                     .values(**values))


def suspend(engine: Engine, user_id: int, *, reason: str, actor: str, now: datetime) -> bool:
    """Suspend an account; return False when it is suspended already."""
    with engine.begin() as conn:
        row = conn.execute(select(account_status.c.suspended_at).where(
            account_status.c.user_id == user_id)).first()
        if row is not None and row.suspended_at is not None:
            return False
        _upsert(conn, user_id, {"suspended_at": now, "suspended_reason": reason[:300],
                                "suspended_by": actor})
    return True


def reinstate(engine: Engine, user_id: int, *, actor: str, now: datetime) -> bool:
    """Lift a suspension; return False when the account was not suspended.

    Reinstating counts as use and as this quarter's reconfirmation: an
    administrator looked at the account now.
    """
    with engine.begin() as conn:
        return bool(conn.execute(update(account_status).where(
            account_status.c.user_id == user_id, account_status.c.suspended_at.is_not(None))
            .values(suspended_at=None, suspended_reason=None, suspended_by=None,
                    reinstated_at=now, reinstated_by=actor, confirmed_at=now,
                    confirmed_by=actor)).rowcount)


def confirm(engine: Engine, user_id: int, *, actor: str, now: datetime) -> None:
    """Record the quarterly reconfirmation of an account."""
    with engine.begin() as conn:
        _upsert(conn, user_id, {"confirmed_at": now, "confirmed_by": actor})
