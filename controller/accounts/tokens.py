"""Command-line sign-in (policy 462.5.1, 462.11(a)): the ``sightline`` command is a user.

``sightline login`` goes through the web login's own steps (``sessions.check_password``
with its per-source throttle and lockout, then ``sessions.check_totp``, or the
first enrolment of an authenticator) and ends with a short-lived token instead of
a cookie: ``rules.cli_token_minutes`` (default 30), not renewed by use, stored
only as its SHA-256, revoked by ``sightline logout``, a compromise report or a
disabled account. Every data command turns the token back into a ``Caller`` with
its training gate worked out, and goes through the same use cases and role table
as the web. Every step is audited under the Sightline user's name; the client
address is ``cli:<operating-system account>``, so entries say they came from the
command line.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from controller import audit
from controller.accounts import sessions
from controller.accounts.caller import Caller
from controller.errors import AccessDenied
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import cli_tokens as repo
from controller.store.records import UserRow

TOKEN_PREFIX = "slt_"  # noqa: S105 (a marker, not a secret)
# A token is the prefix and 43 URL-safe characters; anything longer is not looked up.
TOKEN_LIMIT = 64
ADDRESS_LIMIT = 64
LOGIN_HINT = "run `sightline login` (or set SIGHTLINE_TOKEN to a token it gave)"

# Asked for the second factor: the step ("verify" or "enrol") and, when enrolling,
# the otpauth:// URI and the secret to enter in an authenticator app.
CodePrompt = Callable[[str, str | None, str | None], str]


class NotSignedIn(AccessDenied):
    """No token, or one that is unknown, expired or revoked: the user must sign in."""


def cli_address() -> str:
    """The client address of a command: ``cli:`` and the operating-system account."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): the numeric uid
        account = str(os.getuid())
    return audit.neutralise(f"cli:{account}", ADDRESS_LIMIT)


def token_id(token: str) -> str:
    """The stored id of a token (only its SHA-256 is kept)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _event(engine: Engine, actor: str, action: str, client_addr: str | None,
           outcome: audit.Outcome = "allowed", **data: object) -> None:
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, outcome=outcome,
                                          client_addr=client_addr,
                                          data={"client": "cli", **data}))


def login(engine: Engine, rules: SecuritySettings, username: str, password: str,
          ask_code: CodePrompt, *, client_addr: str, issuer: str | None = None,
          now: datetime | None = None) -> tuple[str, datetime, UserRow]:
    """Check password and second factor as the web login does; return a new token.

    Returns the token (shown once, never stored), its expiry and the user.
    Raises ``sessions.LoginRefused`` as the web login would, after the same
    throttle, lockout and audit entries.
    """
    user = sessions.check_password(engine, rules, username.strip(), password,
                                   client_addr=client_addr, now=now)
    step = sessions.second_factor(user)
    if step is not None:
        uri = secret = None
        if step == "enrol":
            secret = sessions.begin_enrolment(engine, user)
            uri = sessions.provisioning_uri(secret, str(user["username"]),
                                            issuer or rules.totp_issuer)
        code = ask_code(step, uri, secret)
        sessions.check_totp(engine, int(user["id"]), code, client_addr, now, rules=rules)
    token, expires = issue(engine, rules, user, client_addr=client_addr, now=now)
    return token, expires, user


def issue(engine: Engine, rules: SecuritySettings, user: UserRow, *, client_addr: str,
          now: datetime | None = None) -> tuple[str, datetime]:
    """Issue a token for a user who has just proven password and second factor (audited)."""
    when = _now(now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = when + timedelta(minutes=rules.cli_token_minutes)
    repo.add(engine, token_id(token), int(user["id"]), now=when, expires_at=expires,
             client_addr=client_addr)
    _event(engine, str(user["username"]), "login", client_addr, expires_at=expires.isoformat(),
           second_factor="exempt" if user["totp_exempt"] else "totp")
    return token, expires


def resolve(engine: Engine, token: str, *, client_addr: str,
            now: datetime | None = None) -> UserRow:
    """The user a live token belongs to; ``NotSignedIn`` naming why a token is not live.

    A known token that is expired, revoked or of a disabled account is refused
    with an audit entry under its user's name.
    """
    when = _now(now)
    token = token.strip()
    found = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= TOKEN_LIMIT:
        found = repo.token_and_user(engine, token_id(token))
    if found is None:
        raise NotSignedIn(f"not signed in (the token is not known here): {LOGIN_HINT}")
    state, user = found
    reason = None
    if state["revoked_at"] is not None:
        reason = f"the sign-in was ended ({state['revoke_reason']})"
    elif state["expires_at"] <= when:
        reason = f"the sign-in expired at {state['expires_at']:%Y-%m-%d %H:%M} UTC"
    elif user["disabled"]:
        repo.revoke(engine, token_id(token), when, "account disabled")
        reason = "the account is disabled"
    if reason is not None:
        _event(engine, str(user["username"]), "access.denied", client_addr, "denied",
               reason=reason)
        raise NotSignedIn(f"{reason}: {LOGIN_HINT}")
    repo.touch(engine, token_id(token), when)
    return user


def caller_for(engine: Engine, rules: SecuritySettings, user: UserRow, *,
               client_addr: str, now: datetime | None = None) -> Caller:
    """The signed-in user as the use cases take them, training gate worked out (462.4.1)."""
    missing = sessions.missing_for_access(engine, rules, user, now)
    return Caller(username=str(user["username"]), role=str(user["role"]),
                  user_id=int(user["id"]), client_addr=client_addr, gate_ok=not missing)


def logout(engine: Engine, token: str, *, client_addr: str) -> str | None:
    """Revoke a token at its user's request; return the user's name, or None if not live."""
    when = _now(None)
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > TOKEN_LIMIT:
        return None
    found = repo.token_and_user(engine, token_id(token))
    if found is None or not repo.revoke(engine, token_id(token), when, "logout"):
        return None
    username = str(found[1]["username"])
    _event(engine, username, "logout", client_addr)
    return username


def revoke_all(engine: Engine, user_id: int, reason: str) -> int:
    """Revoke every live token of a user (a compromise report); return how many."""
    return repo.revoke_user(engine, user_id, _now(None), reason)
