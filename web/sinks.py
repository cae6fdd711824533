"""Dispatch sinks (462.12, 1798.90.51(a)): where hits leave, registered by an administrator.

Every sink names the public agency that receives it; one off this machine must be
encrypted (``https://``, MQTT over TLS). Secrets are named by environment variable
and never shown. Every change is a use case of ``controller.alerts.sinks``,
audited there.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.alerts import sinks
from web.forms import confirmed, done, on_error, shown_on
from web.security import caller, engine, permission

bp = Blueprint("sinks", __name__, url_prefix="/compliance/sinks")


def _page(**context: Any) -> str:
    return render_template("compliance/sinks.html", kinds=sinks.KINDS,
                           sinks=sinks.sinks_on_file(engine(), caller()), form=request.form,
                           **context)


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """Registered sinks and the form to register one."""
    return _page()


@bp.post("")
@permission("compliance.manage")
@on_error(shown_on(_page))
def register() -> ResponseReturnValue:
    """Register a sink with the agency that receives it (enabled at once)."""
    form = request.form
    row = sinks.register_sink(engine(), caller(), sinks.SinkForm(
        name=form.get("name", ""), kind=form.get("kind", ""), agency=form.get("agency", ""),
        agency_ori=form.get("agency_ori", ""), agency_contact=form.get("agency_contact", ""),
        url=form.get("url", ""), secret_env=form.get("secret_env", ""),
        host=form.get("host", ""), port=form.get("port", ""), tls=form.get("tls") == "yes",
        topic_prefix=form.get("topic_prefix", ""), username_env=form.get("username_env", ""),
        password_env=form.get("password_env", "")))
    return done(f"Sink {row['name']} registered for {row['agency']}.", "sinks.index")


@bp.post("/enabled")
@permission("compliance.manage")
@on_error(shown_on(_page))
def set_enabled() -> ResponseReturnValue:
    """Enable or disable a sink (a disabled sink gets no new hits)."""
    enabled = request.form.get("enabled") == "yes"
    if not enabled:
        confirmed("disable the sink (it gets no new hits)")
    row = sinks.set_sink_enabled(engine(), caller(), request.form.get("sink_id", ""), enabled)
    return done(f"Sink {row['name']} {'enabled' if enabled else 'disabled'}.", "sinks.index")
