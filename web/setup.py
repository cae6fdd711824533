"""The first-run page (issue 16, point 1) and the agency's logo.

``/setup`` lists what the policy requires before go-live, each step with its
state, and a form or link to do it there; every form calls the use case that owns
the step (publication, activation, the agency profile), so the policy's order
holds: activation stays refused until a policy is published, and data stays closed
until the administrator has acknowledged it. Sites and cameras are added with the
cameras page's own forms.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import agency as use
from controller.compliance import setup
from web.agency import agency
from web.compliance import publish_policy_form
from web.forms import done, on_error, shown_on
from web.security import caller, engine, permission, settings

bp = Blueprint("setup", __name__)


@cache
def zones() -> list[str]:
    """Every IANA zone name this machine knows, for the time zone field's suggestions."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def _page(**context: Any) -> str:
    return render_template("setup/index.html", zones=zones(),
                           first_run=setup.first_run(engine(), settings(), caller()),
                           profile=agency(), form=request.form,
                           max_logo_kib=use.LOGO_MAX_BYTES // 1024, **context)


@bp.get("/setup")
@permission("agency.manage")
def index() -> str:
    """The go-live steps with their state, and the forms that do them."""
    return _page()


@bp.post("/setup/policy")
@permission("compliance.manage")
@on_error(shown_on(_page))
def publish_policy() -> ResponseReturnValue:
    """Publish the policy (the Compliance > Policy use case); then acknowledge it."""
    version = publish_policy_form()
    # The administrator acknowledges it like everyone (462.4.1): the gate asks next.
    return done(f"Policy version {version} published. Read and acknowledge it "
                "to go on.", "auth.policy")


@bp.post("/setup/program")
@permission("compliance.manage")
@on_error(shown_on(_page))
def activate() -> ResponseReturnValue:
    """Record the public hearing and adoption (refused while no policy is published)."""
    form = request.form
    state = setup.activate_program(engine(), caller(), hearing_on=form.get("hearing_on", ""),
                                   adopted_on=form.get("adopted_on", ""),
                                   resolution=form.get("resolution", ""))
    return done(f"Hearing and adoption recorded: {state.reason}.", "setup.index")


@bp.post("/setup/agency")
@permission("agency.manage")
@on_error(shown_on(_page))
def save_profile() -> ResponseReturnValue:
    """Set the agency's name and time zone."""
    saved = use.update_profile(engine(), settings(), caller(),
                               name=request.form.get("name", ""),
                               zone=request.form.get("time_zone", ""))
    return done(f"Agency profile saved: {saved.name}, {saved.time_zone}.", "setup.index")


@bp.post("/setup/logo")
@permission("agency.manage")
@on_error(shown_on(_page))
def upload_logo() -> ResponseReturnValue:
    """Store the agency's logo (PNG or JPEG, checked by decoding it)."""
    file = request.files.get("logo")
    # Read one byte past the limit: enough to refuse a larger file without holding it.
    data = b""
    if file is not None:
        try:
            data = file.read(use.LOGO_MAX_BYTES + 1) if file.filename else b""
        finally:
            file.close()  # a large upload is spooled to a temporary file: close it now
    use.set_logo(engine(), caller(), data)
    return done("Logo saved.", "setup.index")


@bp.post("/setup/logo/remove")
@permission("agency.manage")
@on_error(shown_on(_page))
def remove_logo() -> ResponseReturnValue:
    """Take the logo down."""
    use.remove_logo(engine(), caller())
    return done("Logo removed.", "setup.index")


@bp.get("/agency/logo")
@permission("public")
def logo() -> Response:
    """The agency's logo for the page header and the sign-in notice (no plate data)."""
    found = use.logo(engine())
    if found is None:
        abort(404)
    data, kind = found
    response = Response(data, mimetype=kind)
    # Stored bytes were decoded as this type; the browser must not guess another.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
