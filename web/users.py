"""User administration (462.3.1): accounts, roles, training records, second factor, policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from controller import policy
from controller.accounts import roles, users
from controller.errors import NotFound, ValidationError
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from web.security import client_addr, engine, permission, settings

bp = Blueprint("users", __name__, url_prefix="/admin")


def parse_date(field: str, value: str) -> date:
    """Parse an ISO date from a form, naming the field when it is not one."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field, "enter a date as YYYY-MM-DD") from None


def _training_state(completed: date | None) -> str:
    valid = settings().security.training_valid_days
    if completed is None:
        return "none"
    if policy.training_current(completed, datetime.now(UTC).date(), valid):
        return "current"
    return "expired"


def _rows() -> list[dict[str, Any]]:
    latest = account_repo.latest_training_by_user(engine())
    now = datetime.now(UTC)
    rows = []
    for user in users.list_users(engine()):
        completed = latest.get(int(user["id"]))
        locked = user["locked_until"] is not None and user["locked_until"] > now
        rows.append({**user, "training": _training_state(completed), "completed": completed,
                     "locked": locked})
    return rows


def _alerts() -> list[dict[str, Any]]:
    since = datetime.now(UTC) - timedelta(days=30)
    return [dict(r) for r in audit_repo.search(engine(), action="account.compromised",
                                               since=since, limit=20)]


@bp.get("/users")
@permission("users.manage")
def index() -> str:
    """Every account with its role, training, second factor and lock state."""
    return render_template("users/index.html", rows=_rows(), alerts=_alerts(),
                           roles=roles.ROLES, policy=account_repo.current_policy(engine()))


@bp.post("/users")
@permission("users.manage")
def add() -> ResponseReturnValue:
    """Create an account with a temporary password."""
    form = request.form
    try:
        users.add_user(engine(), settings().security, username=form.get("username", "").strip(),
                       role=form.get("role", ""), password=form.get("password", ""),
                       actor=g.user["username"], full_name=form.get("full_name", "").strip(),
                       client_addr=client_addr(), must_change=True)
    except ValidationError as exc:
        flash(str(exc), "error")
        return render_template("users/index.html", rows=_rows(), alerts=_alerts(),
                               roles=roles.ROLES, form=form,
                               policy=account_repo.current_policy(engine())), 400
    flash(f"User {form.get('username')} added; they choose a new password at first login.",
          "info")
    return redirect(url_for("users.index"))


def _user_or_404(username: str) -> dict[str, Any]:
    try:
        return dict(user_repo.get(engine(), username))
    except NotFound:
        abort(404, description=f"no user named '{username}'")


@bp.get("/users/<username>")
@permission("users.manage")
def detail(username: str) -> str:
    """One account: role, state, training records, second factor."""
    user = _user_or_404(username)
    records = account_repo.list_training(engine(), int(user["id"]))
    state = _training_state(records[0]["completed_on"] if records else None)
    events = audit_repo.search(engine(), actor=username, limit=15)
    return render_template("users/detail.html", user=user, records=records, state=state,
                           roles=roles.ROLES, events=events,
                           today=datetime.now(UTC).date().isoformat())


def _change(username: str, action: Callable[[dict[str, Any]], str]) -> ResponseReturnValue:
    user = _user_or_404(username)
    try:
        message = action(user)
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("users.detail", username=username)), 303
    flash(message, "info")
    return redirect(url_for("users.detail", username=username)), 303


def _who() -> dict[str, Any]:
    return {"actor": str(g.user["username"]), "client_addr": client_addr()}


@bp.post("/users/<username>/role")
@permission("users.manage")
def role(username: str) -> ResponseReturnValue:
    """Change the role."""
    def go(_user: dict[str, Any]) -> str:
        new = request.form.get("role", "")
        users.set_role(engine(), username=username, role=new, **_who())
        return f"{username} is now {new}."
    return _change(username, go)


@bp.post("/users/<username>/enabled")
@permission("users.manage")
def enabled(username: str) -> ResponseReturnValue:
    """Enable or disable the account."""
    def go(user: dict[str, Any]) -> str:
        want = request.form.get("enabled") == "yes"
        if not want and user["username"] == g.user["username"]:
            raise ValidationError("enabled", "you cannot disable your own account")
        users.set_enabled(engine(), username=username, enabled=want, **_who())
        return f"{username} {'enabled' if want else 'disabled'}."
    return _change(username, go)


@bp.post("/users/<username>/unlock")
@permission("users.manage")
def unlock(username: str) -> ResponseReturnValue:
    """Lift a lockout."""
    def go(_user: dict[str, Any]) -> str:
        users.unlock(engine(), username=username, **_who())
        return f"{username} unlocked."
    return _change(username, go)


@bp.post("/users/<username>/totp-reset")
@permission("users.manage")
def totp_reset(username: str) -> ResponseReturnValue:
    """Forget the second factor; the user enrols again at next login."""
    def go(_user: dict[str, Any]) -> str:
        users.reset_totp(engine(), username=username, **_who())
        return f"{username} enrols a new authenticator at next login."
    return _change(username, go)


@bp.post("/users/<username>/totp-exempt")
@permission("users.manage")
def totp_exempt(username: str) -> ResponseReturnValue:
    """Exempt the user from the second factor, or end the exemption (with a reason)."""
    def go(_user: dict[str, Any]) -> str:
        exempt = request.form.get("exempt") == "yes"
        users.set_totp_exempt(engine(), username=username, exempt=exempt,
                              reason=request.form.get("reason", ""), **_who())
        return f"{username} {'is exempt from' if exempt else 'needs'} the second factor."
    return _change(username, go)


@bp.post("/users/<username>/password")
@permission("users.manage")
def password(username: str) -> ResponseReturnValue:
    """Set a temporary password the user must replace at next login."""
    def go(_user: dict[str, Any]) -> str:
        users.reset_password(engine(), settings().security, username=username,
                             password=request.form.get("password", ""), must_change=True,
                             **_who())
        return f"Temporary password set for {username}."
    return _change(username, go)


@bp.post("/users/<username>/training")
@permission("users.manage")
def training(username: str) -> ResponseReturnValue:
    """Record a completed ALPR training: course, date, trainer (462.4.1)."""
    def go(_user: dict[str, Any]) -> str:
        form = request.form
        users.record_training(
            engine(), username=username, course=form.get("course", ""),
            completed_on=parse_date("completed_on", form.get("completed_on", "")),
            trainer=form.get("trainer", ""), **_who())
        return f"Training recorded for {username}."
    return _change(username, go)


@bp.post("/policy")
@permission("users.manage")
def publish() -> BaseResponse:
    """Publish a new policy version; every user acknowledges it before using the system."""
    form = request.form
    try:
        users.publish_policy(engine(), version=form.get("version", ""),
                             title=form.get("title", ""),
                             adopted_on=parse_date("adopted_on", form.get("adopted_on", "")),
                             text=form.get("text", ""), **_who())
    except ValidationError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Policy version {form.get('version')} published.", "info")
    return redirect(url_for("users.index"), 303)
