"""API clients (462.4, 462.5): programs that call ``/api/v1`` under a role, answerable to a person.

An administrator creates a client with a name, a role and an expiry date and sees
its token once; only the token's SHA-256 is stored (as for command-line tokens,
``controller.accounts.tokens``). A client:

- holds any role but ``administrator`` (462.3.1: the administrator is a person),
  and goes through the same role table and use cases as a user with that role;
- is owned by the administrator who created it: while the owner is disabled,
  suspended or no longer an administrator, the client is refused;
- meets the training gate (462.4.1) through its owner: the client's calls to
  data and control operations are refused while the owner's ALPR training or
  acknowledgement of the current policy is missing (the owner answers for it);
- states its own purpose and case number (its purpose windows are its own, never
  its owner's), and is named in the audit log as ``client:NAME`` with its name and
  its owner's in every entry;
- expires at the end of its expiry date (UTC), can be revoked, and records its
  last use (when and from where).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from controller import audit
from controller.accounts import dormancy, users
from controller.accounts.caller import Caller, authorize, record
from controller.accounts.roles import CLIENT_ONLY_ROLES, ROLES
from controller.accounts.tokens import token_id
from controller.errors import AccessDenied, NotFound, ValidationError
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import api_clients as repo
from controller.store.api_clients import ClientRow

__all__ = [
    "ADMINISTRATOR",
    "CLIENT_ROLES",
    "MAX_DAYS",
    "PERMISSION",
    "ClientForm",
    "ClientRefused",
    "ClientRow",
    "add_client",
    "clients",
    "resolve",
    "revoke_client",
]

PERMISSION = "clients.manage"
ADMINISTRATOR = "administrator"
# Every user role but the administrator's, and the roles only clients hold (auditor).
CLIENT_ROLES = (*(role for role in ROLES if role != ADMINISTRATOR), *CLIENT_ONLY_ROLES)
TOKEN_PREFIX = "slc_"  # noqa: S105 (a marker, not a secret)
TOKEN_LIMIT = 64
NAME = re.compile(r"^[a-z][a-z0-9._-]{1,47}$")
# A token lives a year at most: a program that keeps running is given a new one.
MAX_DAYS = 366
ACTOR_PREFIX = "client:"


class ClientRefused(AccessDenied):
    """No token, or one that is unknown, expired, revoked, or whose owner may not answer."""


@dataclass(frozen=True)
class ClientForm:
    """A new client as typed: name, role, last day of validity (YYYY-MM-DD); nothing checked."""

    name: str = ""
    role: str = ""
    expires: str = ""


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _check(form: ClientForm, today: date) -> tuple[str, str, datetime]:
    name = form.name.strip()
    if not NAME.match(name):
        raise ValidationError("name", "2-48 characters: lower-case letters, digits, '.', '_' "
                                      "or '-', starting with a letter")
    role = form.role.strip()
    if role == ADMINISTRATOR:
        raise ValidationError("role", "an API client can never hold the administrator role "
                                      "(policy 462.3.1)")
    if role not in CLIENT_ROLES:
        raise ValidationError("role", f"choose one of {', '.join(CLIENT_ROLES)}")
    try:
        last_day = date.fromisoformat(form.expires.strip())
    except ValueError:
        raise ValidationError("expires", "enter the last day of validity as YYYY-MM-DD") from None
    if not today <= last_day <= today + timedelta(days=MAX_DAYS):
        raise ValidationError("expires", f"choose a day from today to {MAX_DAYS} days ahead")
    # Valid through its last day: it expires at the next midnight, UTC.
    return name, role, datetime.combine(last_day + timedelta(days=1), time(), UTC)


def add_client(engine: Engine, caller: Caller, form: ClientForm, *,
               now: datetime | None = None) -> tuple[str, ClientRow]:
    """Create a client owned by the calling administrator (``clients.manage``); audited.

    Return the token (shown once, never stored) and the stored client. A bad
    field raises ``ValidationError`` naming it (audited as denied).
    """
    authorize(engine, caller, PERMISSION, "client.add", data={"name": form.name[:64]})
    when = _now(now)
    try:
        name, role, expires_at = _check(form, when.date())
    except ValidationError as exc:
        record(engine, caller, "client.add", outcome="denied",
               data={"name": audit.neutralise(form.name, 64), "field": exc.field,
                     "reason": exc.reason})
        raise
    if caller.user_id is None or caller.client_name is not None:
        raise AccessDenied("only a signed-in administrator creates API clients")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = repo.add(engine, name=name, role=role, owner_id=caller.user_id,
                   token_hash=token_id(token), now=when, expires_at=expires_at)
    record(engine, caller, "client.add",
           data={"name": name, "role": role, "expires_at": expires_at.isoformat()})
    return token, row


def clients(engine: Engine, caller: Caller) -> list[ClientRow]:
    """Every API client, newest first (``clients.manage``); tokens are never shown."""
    authorize(engine, caller, PERMISSION, "client.list")
    return repo.list_all(engine)


def revoke_client(engine: Engine, caller: Caller, name: str, *,
                  now: datetime | None = None) -> ClientRow:
    """Revoke a client at once (``clients.manage``); audited. ``NotFound`` if unknown.

    Revoking a revoked client changes nothing and is not an error.
    """
    authorize(engine, caller, PERMISSION, "client.revoke", data={"name": name[:64]})
    if repo.by_name(engine, name) is None:
        raise NotFound(f"no API client named {audit.neutralise(name, 64)!r}")
    if repo.revoke(engine, name, _now(now), caller.username):
        record(engine, caller, "client.revoke", data={"name": name})
    row = repo.by_name(engine, name)
    assert row is not None
    return row


def _refuse(engine: Engine, row: ClientRow, client_addr: str | None, reason: str) -> None:
    audit.record(engine, audit.AuditEvent(
        actor=ACTOR_PREFIX + row.name, action="access.denied", outcome="denied",
        client_addr=client_addr, data={"client": row.name, "owner": row.owner,
                                       "reason": reason}))
    raise ClientRefused(f"the API client's token is refused: {reason}")


def resolve(engine: Engine, rules: SecuritySettings, token: str, *, client_addr: str | None,
            now: datetime | None = None) -> Caller:
    """The client a bearer token belongs to, as the use cases take it; last use recorded.

    ``ClientRefused`` for an unknown token; for an expired or revoked one, or one
    whose owner is disabled, suspended or no longer an administrator, the refusal
    is audited under the client's name.
    """
    when = _now(now)
    token = token.strip()
    found = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= TOKEN_LIMIT:
        found = repo.by_token(engine, token_id(token))
    if found is None:
        raise ClientRefused("the API client's token is not known here")
    row, owner = found
    if row.revoked_at is not None:
        _refuse(engine, row, client_addr, f"revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    if row.expires_at <= when:
        _refuse(engine, row, client_addr, f"expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    if owner["disabled"] or owner["role"] != ADMINISTRATOR:
        _refuse(engine, row, client_addr,
                f"its owner {row.owner} is no longer an active administrator")
    if dormancy.suspension(engine, row.owner_id) is not None:
        _refuse(engine, row, client_addr, f"its owner {row.owner} is suspended")
    repo.touch(engine, row.id, when, client_addr)
    missing = users.training_missing(engine, rules, owner, when)
    return Caller(username=ACTOR_PREFIX + row.name, role=row.role, user_id=row.owner_id,
                  client_addr=client_addr, gate_ok=not missing, client_name=row.name,
                  owner=row.owner, client_id=row.id)
