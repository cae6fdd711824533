"""API clients (462.4, 462.5): the administrator's page to list, add and revoke them.

A new client's token is shown once, on the page that answers the form (never in a
redirect, a flash message or a log); the controller stores only its hash.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.accounts import clients
from controller.errors import SightlineError
from web.forms import done, on_error
from web.security import caller, engine, permission

bp = Blueprint("clients", __name__, url_prefix="/admin/clients")


def _page(**context: Any) -> str:
    return render_template("clients/index.html", roles=clients.CLIENT_ROLES,
                           max_days=clients.MAX_DAYS, rows=clients.clients(engine(), caller()),
                           **context)


def _refused(exc: SightlineError) -> str:
    return _page(form=request.form, error=exc)


@bp.get("")
@permission("clients.manage")
def index() -> str:
    """Every client with its role, owner, expiry, state and last use; the form to add one."""
    return _page()


@bp.post("")
@permission("clients.manage")
@on_error(_refused)
def add() -> ResponseReturnValue:
    """Create a client owned by the signed-in administrator; show its token once."""
    form = request.form
    token, row = clients.add_client(engine(), caller(), clients.ClientForm(
        name=form.get("name", ""), role=form.get("role", ""), expires=form.get("expires", "")))
    return _page(created=row, token=token)


@bp.post("/<name>/revoke")
@permission("clients.manage")
@on_error(_refused)
def revoke(name: str) -> ResponseReturnValue:
    """Revoke a client: its token is refused from the next call on."""
    row = clients.revoke_client(engine(), caller(), name)
    return done(f"API client {row.name} revoked.", "clients.index")
