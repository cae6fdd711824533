"""Repository functions for purpose windows: state one, find the open one, end it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from controller.store.engine import reading
from controller.store.schema import purpose_shown, purpose_windows

REPLACED = "replaced"


@dataclass(frozen=True)
class WindowRow:
    """One stated purpose: its user, purpose, case number and the time it covers."""

    id: int
    user_id: int
    purpose: str
    case_number: str | None
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None


def _row(mapping: Any) -> WindowRow:
    return WindowRow(id=int(mapping["id"]), user_id=int(mapping["user_id"]),
                     purpose=str(mapping["purpose"]), case_number=mapping["case_number"],
                     started_at=mapping["started_at"], expires_at=mapping["expires_at"],
                     ended_at=mapping["ended_at"], end_reason=mapping["end_reason"])


def _open(user_id: int, now: datetime, client_id: int | None) -> Any:
    # A user's own windows and each of their API clients' are kept apart (client_id).
    whose = (purpose_windows.c.client_id.is_(None) if client_id is None
             else purpose_windows.c.client_id == client_id)
    return (purpose_windows.c.user_id == user_id, whose, purpose_windows.c.ended_at.is_(None),
            purpose_windows.c.started_at <= now, purpose_windows.c.expires_at > now)


def start(engine: Engine, *, user_id: int, purpose: str, case_number: str | None,
          now: datetime, expires_at: datetime, client_addr: str | None,
          client_id: int | None = None) -> tuple[WindowRow, list[WindowRow]]:
    """Open a window for the user, ending (``replaced``) any still open, in one transaction.

    Return the new window and those it replaced.
    """
    with engine.begin() as conn:
        replaced = [_row(r) for r in conn.execute(
            select(purpose_windows).where(*_open(user_id, now, client_id))).mappings().all()]
        if replaced:
            conn.execute(update(purpose_windows).where(
                purpose_windows.c.id.in_([w.id for w in replaced]))
                .values(ended_at=now, end_reason=REPLACED))
        new_id = conn.execute(purpose_windows.insert().values(
            user_id=user_id, purpose=purpose, case_number=case_number, started_at=now,
            expires_at=expires_at, client_addr=client_addr, client_id=client_id)
            .returning(purpose_windows.c.id)).scalar_one()
        row = conn.execute(select(purpose_windows).where(
            purpose_windows.c.id == new_id)).mappings().one()
    return _row(row), replaced


def current(engine: Engine, user_id: int, now: datetime,
            client_id: int | None = None) -> WindowRow | None:
    """The user's newest window open at ``now`` (started, not ended, not expired), or None."""
    with reading(engine) as conn:
        row = conn.execute(select(purpose_windows).where(*_open(user_id, now, client_id))
                           .order_by(purpose_windows.c.id.desc()).limit(1)).mappings().first()
    return _row(row) if row else None


def end(engine: Engine, user_id: int, now: datetime, reason: str,
        client_id: int | None = None) -> list[WindowRow]:
    """End the user's open windows at ``now``; return those ended (as they were)."""
    with engine.begin() as conn:
        ended = [_row(r) for r in conn.execute(
            select(purpose_windows).where(*_open(user_id, now, client_id))).mappings().all()]
        if ended:
            conn.execute(update(purpose_windows).where(
                purpose_windows.c.id.in_([w.id for w in ended]))
                .values(ended_at=now, end_reason=reason))
    return ended


def swap_shown_digest(engine: Engine, window_id: int, action: str, digest: str) -> bool:
    """Remember the list of kind ``action`` last logged in a window; False if it was this
    one already (one conditional upsert, so two requests at once log it once)."""
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(purpose_shown).values(window_id=window_id, action=action,
                                                     digest=digest)
    upsert = statement.on_conflict_do_update(
        index_elements=["window_id", "action"], set_={"digest": digest},
        where=purpose_shown.c.digest != digest).returning(purpose_shown.c.window_id)
    # A row comes back when one was written (rowcount is -1 here under psycopg).
    with engine.begin() as conn:
        return conn.execute(upsert).first() is not None
