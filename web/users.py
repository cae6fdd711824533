"""User administration (462.3.1): accounts, roles, training records, second factor, policy."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from controller.accounts import admin, dormancy, roles
from controller.errors import SightlineError, ValidationError
from web.forms import back_to, on_error, plain
from web.security import caller, engine, permission, settings

bp = Blueprint("users", __name__, url_prefix="/admin")


def _index(**context: object) -> str:
    view = admin.overview(engine(), settings().security, caller())
    return render_template("users/index.html", rows=view["rows"], alerts=view["alerts"],
                           roles=roles.ROLES, policy=view["policy"], **context)


def _add_refused(exc: SightlineError) -> str:
    flash(plain(exc), "error")
    return _index(form=request.form)


def _done(username: str, message: str) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for("users.detail", username=username)), 303


@bp.get("/users")
@permission("users.manage")
def index() -> str:
    """Every account with its role, training, second factor and lock state."""
    return _index()


@bp.post("/users")
@permission("users.manage")
@on_error(_add_refused)
def add() -> ResponseReturnValue:
    """Create an account with a temporary password."""
    form = request.form
    admin.add_account(engine(), settings().security, caller(),
                      username=form.get("username", ""), role=form.get("role", ""),
                      password=form.get("password", ""), full_name=form.get("full_name", ""))
    flash(f"User {form.get('username')} added; they choose a new password at first login.",
          "info")
    return redirect(url_for("users.index"))


@bp.get("/users/<username>")
@permission("users.manage")
def detail(username: str) -> str:
    """One account: role, state, training records, second factor."""
    view = admin.account(engine(), settings().security, caller(), username)
    return render_template("users/detail.html", user=view["user"], records=view["records"],
                           state=view["state"], roles=roles.ROLES, events=view["events"],
                           today=datetime.now(UTC).date().isoformat())


@bp.post("/users/<username>/role")
@permission("users.manage")
@on_error(back_to("users.detail"))
def role(username: str) -> ResponseReturnValue:
    """Change the role."""
    new = request.form.get("role", "")
    admin.change_role(engine(), caller(), username, new)
    return _done(username, f"{username} is now {new}.")


@bp.post("/users/<username>/enabled")
@permission("users.manage")
@on_error(back_to("users.detail"))
def enabled(username: str) -> ResponseReturnValue:
    """Enable or disable the account; disabling needs the "I confirm" box ticked."""
    want = request.form.get("enabled") == "yes"
    if not want and request.form.get("confirm") != "yes":
        raise ValidationError("confirm", f"tick 'I confirm' to disable {username}")
    admin.set_account_enabled(engine(), caller(), username, want)
    return _done(username, f"{username} {'enabled' if want else 'disabled'}.")


def _reconfirm_page(**context: object) -> str:
    return render_template("users/reconfirm.html", form=request.form,
                           **dormancy.reconfirmation(engine(), caller()), **context)


def _reconfirm_refused(exc: SightlineError) -> str:
    return _reconfirm_page(error=plain(exc))


@bp.get("/reconfirm")
@permission("users.manage")
def reconfirm_page() -> str:
    """Every account, those due for this quarter's reconfirmation first; suspensions."""
    return _reconfirm_page()


@bp.post("/reconfirm")
@permission("users.manage")
@on_error(_reconfirm_refused)
def reconfirm() -> ResponseReturnValue:
    """Reconfirm that an account is still needed, for this quarter."""
    username = request.form.get("username", "")
    dormancy.confirm(engine(), caller(), username)
    flash(f"{username} reconfirmed for this quarter.", "info")
    return redirect(url_for("users.reconfirm_page"), 303)


@bp.post("/reinstate")
@permission("users.manage")
@on_error(_reconfirm_refused)
def reinstate() -> ResponseReturnValue:
    """Lift an account's suspension, with the reason."""
    username = request.form.get("username", "")
    dormancy.reinstate(engine(), caller(), username, request.form.get("reason", ""))
    flash(f"{username} reinstated.", "info")
    return redirect(url_for("users.reconfirm_page"), 303)


@bp.post("/users/<username>/unlock")
@permission("users.manage")
@on_error(back_to("users.detail"))
def unlock(username: str) -> ResponseReturnValue:
    """Lift a lockout."""
    admin.unlock_account(engine(), caller(), username)
    return _done(username, f"{username} unlocked.")


@bp.post("/users/<username>/totp-reset")
@permission("users.manage")
@on_error(back_to("users.detail"))
def totp_reset(username: str) -> ResponseReturnValue:
    """Forget the second factor; the user enrols again at next login."""
    admin.reset_second_factor(engine(), caller(), username)
    return _done(username, f"{username} enrols a new authenticator at next login.")


@bp.post("/users/<username>/totp-exempt")
@permission("users.manage")
@on_error(back_to("users.detail"))
def totp_exempt(username: str) -> ResponseReturnValue:
    """Exempt the user from the second factor, or end the exemption (with a reason)."""
    exempt = request.form.get("exempt") == "yes"
    admin.set_second_factor_exempt(engine(), caller(), username, exempt,
                                   request.form.get("reason", ""))
    return _done(username,
                 f"{username} {'is exempt from' if exempt else 'needs'} the second factor.")


@bp.post("/users/<username>/password")
@permission("users.manage")
@on_error(back_to("users.detail"))
def password(username: str) -> ResponseReturnValue:
    """Set a temporary password the user must replace at next login."""
    admin.set_temporary_password(engine(), settings().security, caller(), username,
                                 request.form.get("password", ""))
    return _done(username, f"Temporary password set for {username}.")


@bp.post("/users/<username>/training")
@permission("users.manage")
@on_error(back_to("users.detail"))
def training(username: str) -> ResponseReturnValue:
    """Record a completed ALPR training: course, date, trainer (462.4.1)."""
    form = request.form
    admin.record_training(engine(), caller(), username, course=form.get("course", ""),
                          completed_on=form.get("completed_on", ""),
                          trainer=form.get("trainer", ""))
    return _done(username, f"Training recorded for {username}.")


@bp.post("/policy")
@permission("users.manage")
@on_error(back_to("users.index"))
def publish() -> BaseResponse:
    """Publish a new policy version; every user acknowledges it before using the system."""
    form = request.form
    admin.publish_policy(engine(), caller(), version=form.get("version", ""),
                         title=form.get("title", ""), adopted_on=form.get("adopted_on", ""),
                         text=form.get("text", ""))
    flash(f"Policy version {form.get('version')} published.", "info")
    return redirect(url_for("users.index"), 303)
