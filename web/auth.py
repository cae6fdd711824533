"""Sign in and one's own account: banner, password, TOTP, gate, policy, compromise report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from controller.accounts import self_service, sessions
from controller.errors import SightlineError, ValidationError
from web.forms import on_error, plain
from web.security import (
    caller,
    client_addr,
    csrf_token,
    engine,
    permission,
    safe_next,
    settings,
)

bp = Blueprint("auth", __name__)

PENDING_MINUTES = 5


def _pending_user() -> sessions.UserRow | None:
    pending = session.get("pending")
    if not isinstance(pending, dict):
        return None
    started = datetime.fromisoformat(str(pending.get("at")))
    if datetime.now(UTC) - started > timedelta(minutes=PENDING_MINUTES):
        session.pop("pending", None)
        return None
    return self_service.signing_in(engine(), int(pending["uid"]))


def _finish_login(user: sessions.UserRow) -> BaseResponse:
    target = safe_next(session.get("pending", {}).get("next"))
    token = sessions.open_session(engine(), user, client_addr())
    # A fresh cookie after login: nothing from the anonymous session carries over.
    session.clear()
    session["token"] = token
    csrf_token()
    missing = sessions.missing_for_access(engine(), settings().security, user)
    if missing:
        return redirect(url_for("auth.gate"))
    return redirect(target or url_for("home.index"))


def _login_again(message: str, field: str, status: int) -> ResponseReturnValue:
    """The sign-in form again with the refusal inside its card (beside the field it is
    about), the username and the notice's acknowledgement as the user left them."""
    form = request.form
    return render_template("auth/login.html", next=safe_next(form.get("next")),
                           username=form.get("username", ""), error=message, error_field=field,
                           banner_ack=form.get("banner_ack") == "yes"), status


@bp.route("/login", methods=["GET", "POST"])
@permission("public")
def login() -> ResponseReturnValue:
    """The system-use notice and the username/password form."""
    if g.user is not None and request.method == "GET":
        return redirect(url_for("home.index"))
    if request.method == "GET":
        return render_template("auth/login.html", next=safe_next(request.args.get("next")))
    form = request.form
    if form.get("banner_ack") != "yes":
        return _login_again("Acknowledge the system-use notice to continue.", "banner_ack", 400)
    try:
        user = sessions.check_password(engine(), settings().security,
                                       form.get("username", "").strip(), form.get("password", ""),
                                       client_addr=client_addr())
    except sessions.LoginRefused as exc:
        return _login_again(str(exc), "password", 401)
    session["pending"] = {"uid": int(user["id"]), "at": datetime.now(UTC).isoformat(),
                          "next": safe_next(form.get("next"))}
    step = sessions.second_factor(user)
    if step is None:
        return _finish_login(user)
    return redirect(url_for("auth.enrol" if step == "enrol" else "auth.totp"))


def _code_step(user: sessions.UserRow, template: str, **context: Any) -> ResponseReturnValue:
    """Show a second-factor page, or check its posted code and finish the login."""
    if request.method != "POST":
        return render_template(template, user=user, **context)
    try:
        sessions.check_totp(engine(), int(user["id"]), request.form.get("code", ""),
                            client_addr())
    except sessions.LoginRefused as exc:
        flash(str(exc), "error")
        return render_template(template, user=user, **context), 401
    return _finish_login(user)


@bp.route("/login/code", methods=["GET", "POST"])
@permission("public")
def totp() -> ResponseReturnValue:
    """The second factor: a current code from the user's authenticator."""
    user = _pending_user()
    if user is None or sessions.second_factor(user) != "verify":
        return redirect(url_for("auth.login"))
    return _code_step(user, "auth/totp.html")


@bp.route("/login/enrol", methods=["GET", "POST"])
@permission("public")
def enrol() -> ResponseReturnValue:
    """First login: enrol an authenticator app, proven by one code."""
    user = _pending_user()
    if user is None or sessions.second_factor(user) != "enrol":
        return redirect(url_for("auth.login"))
    secret = sessions.begin_enrolment(engine(), user)
    uri = sessions.provisioning_uri(secret, str(user["username"]), settings().security.totp_issuer)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _code_step(user, "auth/enrol.html", secret=grouped, uri=uri, qr=qr_data_uri(uri))


def qr_data_uri(uri: str) -> str:
    """The setup link as a QR code, a PNG inline in the page (no request leaves it).

    Medium error correction and a four-module quiet zone, as phone cameras expect; the
    page is never cached (``Cache-Control: no-store`` on every response).
    """
    return str(segno.make(uri, error="m", micro=False).png_data_uri(scale=5, border=4))


@bp.post("/logout")
@permission("account")
def logout() -> BaseResponse:
    """End the session."""
    token = session.get("token")
    if isinstance(token, str):
        sessions.logout(engine(), token, str(g.user["username"]), client_addr())
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/access")
@permission("account")
def gate() -> str:
    """What the user still needs before data and control pages open (462.4.1)."""
    missing = sessions.missing_for_access(engine(), settings().security, g.user)
    return render_template("auth/gate.html", missing=missing, refused=False)


@bp.route("/policy", methods=["GET", "POST"])
@permission("account")
def policy() -> ResponseReturnValue:
    """Read the current policy version and acknowledge it."""
    if request.method == "POST":
        self_service.acknowledge_policy(engine(), caller(), request.form.get("policy_id", ""))
        flash("Policy acknowledged.", "info")
        return redirect(url_for("auth.gate"))
    view = self_service.policy_to_read(engine(), caller())
    return render_template("auth/policy.html", policy=view.current, text=view.text,
                           done=view.done)


@bp.get("/account")
@permission("account")
def account() -> str:
    """One's own account: training on record, second factor, password age."""
    return render_template("auth/account.html",
                           records=self_service.own_training(engine(), caller()))


def _password_refused(exc: SightlineError) -> str:
    flash(plain(exc), "error")
    return render_template("auth/password.html")


@bp.route("/account/password", methods=["GET", "POST"])
@permission("account")
@on_error(_password_refused)
def change_password() -> ResponseReturnValue:
    """Change one's own password (CJIS rules, none of the last 10)."""
    if request.method == "POST":
        form = request.form
        if form.get("new_password", "") != form.get("confirm_password", ""):
            raise ValidationError("confirm_password", "the two new passwords differ")
        sessions.change_password(engine(), settings().security, g.user,
                                 form.get("current_password", ""),
                                 form.get("new_password", ""), client_addr=client_addr())
        flash("Password changed.", "info")
        return redirect(url_for("auth.account"))
    return render_template("auth/password.html")


@bp.post("/account/compromised")
@permission("account")
def compromised() -> BaseResponse:
    """Report one's password compromised: sessions end, a new password is required."""
    sessions.report_compromised(engine(), g.user, client_addr())
    session.clear()
    flash("Reported. The administrator has been alerted and every session of yours has "
          "ended. Sign in and choose a new password.", "warning")
    return redirect(url_for("auth.login"))
