"""The purpose window (462.5): state the purpose and case number of a piece of work once.

Every page that shows plate data calls a use case that needs the user's open
window; when there is none the use case raises ``PurposeRequired`` and this
blueprint's handler sends the browser to the form, which brings the user back to
where they were going once the purpose is stated. The window itself lives in the
database (``controller.accounts.purpose``), so it covers the CLI and API too.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from controller.accounts import purpose as use
from controller.accounts import roles
from controller.errors import PurposeRequired, SightlineError
from web.forms import on_error
from web.security import caller, engine, permission, safe_next, settings

bp = Blueprint("purpose", __name__)


def _next() -> str:
    return safe_next(request.values.get("next")) or url_for("home.index")


def _page(error: SightlineError | None = None) -> str:
    config = settings()
    return render_template("purpose/form.html", purposes=config.search.purposes,
                           case_required=config.search.case_number_required,
                           minutes=config.search.purpose_window_minutes,
                           window=use.current(engine(), caller()), next=_next(),
                           form=request.form, error=error)


@bp.get("/purpose")
@permission("purpose")
def form() -> str:
    """The form, with the window now open (if any) and where to go back to."""
    return _page()


@bp.post("/purpose")
@permission("purpose")
@on_error(_page)
def state() -> ResponseReturnValue:
    """State a purpose and case number (audited); go back to the page that asked."""
    window = use.state(engine(), settings(), caller(), use.PurposeForm(
        request.form.get("purpose", ""), request.form.get("case_number", ""),
        request.form.get("attest", "")))
    flash(f"Purpose stated: {window.purpose}"
          + (f", case {window.case_number}" if window.case_number else "")
          + f". It covers your views until {window.expires_at:%H:%M} UTC.", "info")
    return redirect(_next(), 303)


@bp.post("/purpose/end")
@permission("purpose")
def end() -> ResponseReturnValue:
    """End the open window now (audited)."""
    ended = use.end(engine(), caller())
    flash("Purpose ended: plate data is closed until you state a new one." if ended
          else "No purpose was open.", "info")
    return redirect(url_for("home.index"), 303)


@bp.app_errorhandler(PurposeRequired)
def ask(exc: PurposeRequired) -> ResponseReturnValue:
    """A view of plate data without an open window: ask for the purpose, then come back."""
    if request.is_json or request.path.startswith("/api/"):
        return jsonify(error=str(exc), purpose_required=True), 403
    if request.method != "GET":
        # A form posted after the window ran out is not a page to come back to.
        flash(str(exc), "warning")
        return redirect(url_for("purpose.form"), 303)
    return redirect(url_for("purpose.form", next=request.full_path.rstrip("?")), 303)


@bp.app_context_processor
def _window() -> dict[str, object]:
    def purpose_window() -> use.Window | None:
        """The signed-in user's open window, looked up once per page (for the header)."""
        if "purpose_window" not in g:
            user = g.get("user")
            g.purpose_window = (use.current(engine(), caller()) if user and roles.allowed(
                "purpose", str(user["role"])) else None)
        window: use.Window | None = g.purpose_window
        return window
    return {"purpose_window": purpose_window}
