"""Request guards: session loading, the role check (default deny), training gate, CSRF.

Every view names its permission with ``@permission("...")``; the check itself
runs once, in ``before_request``, against ``controller.accounts.roles.PERMISSIONS``, so
a view without a permission, or with one the table does not know, is refused.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from controller import accounts
from controller.accounts import Caller, roles, sessions, users
from controller.settings import Settings
from controller.system import Database

F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTR = "sightline_permission"
API_BLUEPRINT = "api_v1"
# Views Flask itself registers, and flask-openapi3's API document and its page (no data:
# a program needs them before it holds a token, as it needs /healthz).
ENDPOINT_PERMISSIONS = {"static": "public", "openapi.openapi": "public",
                        "openapi.doc_url": "public", "openapi.static": "public",
                        "swagger.swagger": "public", "swagger.static": "public",
                        "swagger.oauth2-redirect": "public"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def permission(name: str) -> Callable[[F], F]:
    """Name the permission (a key of ``controller.accounts.roles.PERMISSIONS``) a view needs."""
    if name not in roles.PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}: add it to controller/accounts/roles.py")

    def mark(view: F) -> F:
        setattr(view, PERMISSION_ATTR, name)
        return view

    return mark


def permission_of(app: Flask, endpoint: str | None) -> str | None:
    """The permission a view declares, or None (which is refused)."""
    if endpoint is None:
        return None
    if endpoint in ENDPOINT_PERMISSIONS:
        return ENDPOINT_PERMISSIONS[endpoint]
    view = app.view_functions.get(endpoint)
    return getattr(view, PERMISSION_ATTR, None)


def engine() -> Database:
    """The engine of the application handling this request."""
    return current_app.extensions["sightline"]["engine"]  # type: ignore[no-any-return]


def settings() -> Settings:
    """The settings of the application handling this request."""
    return current_app.config["SIGHTLINE_SETTINGS"]  # type: ignore[no-any-return]


def client_addr() -> str | None:
    """The client's address as waitress saw it (untrusted proxy headers are cleared)."""
    return request.remote_addr


def actor() -> str:
    """The signed-in user's name for the audit log."""
    user = g.get("user")
    return str(user["username"]) if user else "(anonymous)"


def requester() -> Caller:
    """Whoever sent this request, signed in or not, as the audit log names them.

    Unlike ``caller`` it works out no training gate: the guard's own refusals
    need only the name and the address.
    """
    user = g.get("user")
    return Caller(username=actor(), role=str(user["role"]) if user else roles.ANONYMOUS,
                  user_id=int(user["id"]) if user else None, client_addr=client_addr())


def caller() -> Caller:
    """The signed-in user as the controller's use cases take them.

    Whether their training gate is satisfied is worked out once per request (the
    guard already did for routes behind the gate).
    """
    user = g.user
    gate_ok = g.get("gate_ok")
    if gate_ok is None:
        gate_ok = not sessions.missing_for_access(engine(), settings().security, user)
        g.gate_ok = gate_ok
    return Caller(username=str(user["username"]), role=str(user["role"]),
                  user_id=int(user["id"]), client_addr=client_addr(), gate_ok=gate_ok)


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), given.encode())


def safe_next(target: str | None) -> str | None:
    """Accept only a same-site path to go back to after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def deny(reason: str, *, missing: list[users.Missing] | None = None) -> BaseResponse:
    """Refuse the request with 403 and write the refusal to the audit log."""
    accounts.record(engine(), requester(), "access.denied", outcome="denied",
                    data={"endpoint": request.endpoint, "path": request.path,
                          "method": request.method, "reason": reason})
    if missing:
        body = render_template("auth/gate.html", missing=missing, refused=True)
    else:
        body = render_template("error.html", code=403, title="Not allowed", message=reason)
    return current_app.response_class(body, status=403)


def _load_user() -> None:
    g.user = None
    g.session_ended = ""
    token = session.get("token")
    if not isinstance(token, str):
        return
    user, why = sessions.resume_session(engine(), settings().security, token, client_addr())
    if user is None:
        session.clear()
        g.session_ended = why
        flash(f"Your session ended ({why}). Sign in again.", "warning")
        return
    g.user = user


def guard() -> BaseResponse | None:
    """``before_request``: CSRF, sign-in, role and training checks, in that order.

    The JSON API (``web.api``) is left to its own bearer-token guard: its requests
    never read the session cookie, so a browser's sign-in cannot call it.
    """
    if request.blueprint == API_BLUEPRINT:
        g.user = None
        return None
    _load_user()
    perm = permission_of(current_app, request.endpoint)
    if request.endpoint is None:
        return None  # Flask answers 404 (or 405) itself
    if request.method not in SAFE_METHODS and not _csrf_ok():
        accounts.record(engine(), requester(), "access.csrf", outcome="denied",
                        data={"path": request.path, "method": request.method})
        abort(400, description="The form's security token is missing or out of date. "
                               "Reload the page and try again.")
    if perm == "public":
        return None
    user = g.user
    if user is None:
        if request.method in SAFE_METHODS and not request.path.startswith("/api/"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401, description="Sign in first.")
    if perm is None or not roles.allowed(perm, str(user["role"])):
        return deny(f"the {user['role']} role may not use this page")
    if roles.needs_training(perm):
        missing = sessions.missing_for_access(engine(), settings().security, user)
        g.gate_ok = not missing
        if missing:
            return deny("training or policy acknowledgement missing: "
                        + ", ".join(m.code for m in missing), missing=missing)
    return None


def can(perm: str) -> bool:
    """Template helper: whether the signed-in user's role holds ``perm``."""
    user = g.get("user")
    return bool(user) and roles.allowed(perm, str(user["role"]))
