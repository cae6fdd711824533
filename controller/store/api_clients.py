"""Repository functions for API clients (only the SHA-256 of a token is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from controller.errors import Conflict
from controller.store.records import UserRow
from controller.store.schema import api_clients, users


@dataclass(frozen=True)
class ClientRow:
    """One API client as stored, with its owner's username."""

    id: int
    name: str
    role: str
    owner_id: int
    owner: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    last_used_addr: str | None
    revoked_at: datetime | None
    revoked_by: str | None


_COLUMNS = (api_clients.c.id, api_clients.c.name, api_clients.c.role, api_clients.c.owner_id,
            users.c.username.label("owner"), api_clients.c.created_at,
            api_clients.c.expires_at, api_clients.c.last_used_at,
            api_clients.c.last_used_addr, api_clients.c.revoked_at, api_clients.c.revoked_by)


def _row(mapping: Any) -> ClientRow:
    return ClientRow(**{column.name: mapping[column.name] for column in _COLUMNS})


def _query() -> Any:
    return select(*_COLUMNS).join(users, users.c.id == api_clients.c.owner_id)


def add(engine: Engine, *, name: str, role: str, owner_id: int, token_hash: str,
        now: datetime, expires_at: datetime) -> ClientRow:
    """Store a new client; ``Conflict`` when the name is taken."""
    try:
        with engine.begin() as conn:
            new_id = conn.execute(api_clients.insert().values(
                name=name, role=role, owner_id=owner_id, token_hash=token_hash,
                created_at=now, expires_at=expires_at).returning(api_clients.c.id)).scalar_one()
            row = conn.execute(_query().where(api_clients.c.id == new_id)).mappings().one()
    except IntegrityError as exc:
        raise Conflict(f"an API client named {name!r} already exists") from exc
    return _row(row)


def list_all(engine: Engine) -> list[ClientRow]:
    """Every client, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(_query().order_by(api_clients.c.id.desc())).mappings().all()
    return [_row(r) for r in rows]


def by_name(engine: Engine, name: str) -> ClientRow | None:
    """One client by name, or None."""
    with engine.connect() as conn:
        row = conn.execute(_query().where(api_clients.c.name == name)).mappings().first()
    return _row(row) if row else None


def by_token(engine: Engine, token_hash: str) -> tuple[ClientRow, UserRow] | None:
    """A client by its token's hash, with its owner's user row; None if unknown."""
    with engine.connect() as conn:
        row = conn.execute(_query().where(api_clients.c.token_hash == token_hash)
                           ).mappings().first()
        if row is None:
            return None
        owner = conn.execute(select(users).where(users.c.id == row["owner_id"])
                             ).mappings().one()
    return _row(row), cast("UserRow", dict(owner))


def touch(engine: Engine, client_id: int, now: datetime, client_addr: str | None) -> None:
    """Record the client's last use: when, and from where."""
    with engine.begin() as conn:
        conn.execute(update(api_clients).where(api_clients.c.id == client_id)
                     .values(last_used_at=now, last_used_addr=client_addr))


def revoke(engine: Engine, name: str, now: datetime, revoked_by: str) -> bool:
    """Revoke a client that is not revoked yet; return whether it was."""
    with engine.begin() as conn:
        result = conn.execute(update(api_clients).where(
            api_clients.c.name == name, api_clients.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=revoked_by))
    return result.rowcount > 0
