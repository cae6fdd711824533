"""Releasing data to other agencies (462.12): requests, decisions, export packages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import packages, sharing
from web.forms import done, form_id, on_error, shown_on
from web.security import caller, engine, permission, settings

bp = Blueprint("sharing", __name__, url_prefix="/compliance/sharing")


def _page(**context: Any) -> str:
    return render_template("compliance/sharing.html", kinds=sharing.AGENCY_KINDS,
                           rules=settings().sharing, form=request.form,
                           today=datetime.now(UTC).date(),
                           packages=packages.my_packages(engine(), caller(), "sharing"),
                           **sharing.requests_on_file(engine(), caller()), **context)


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """Requests on file and the form to enter a written request."""
    return _page()


@bp.post("")
@permission("compliance.manage")
@on_error(shown_on(_page))
def enter() -> ResponseReturnValue:
    """Enter a written request; refused or routed at once where the rules say so."""
    form = request.form
    row = sharing.submit_request(engine(), settings(), caller(), sharing.RequestForm(
        agency=form.get("agency", ""), ori=form.get("ori", ""), state=form.get("state", ""),
        kind=form.get("kind", ""), requester_name=form.get("requester_name", ""),
        purpose=form.get("purpose", ""), case_number=form.get("case_number", ""),
        plates=form.get("plates", ""), since=form.get("since", ""),
        until=form.get("until", ""), cameras=form.getlist("cameras"),
        received_on=form.get("received_on", "")))
    reason = f": {row['decision_reason']}" if row["decision_reason"] else ""
    return done(f"Request {row['id']} from {row['agency']} recorded as {row['status']}{reason}.",
                "sharing.index")


@bp.post("/decide")
@permission("compliance.manage")
@on_error(shown_on(_page))
def decide() -> ResponseReturnValue:
    """Approve or deny a pending request, with a reason."""
    row = sharing.decide_request(engine(), caller(),
                                 request_id=request.form.get("request_id", ""),
                                 decision=request.form.get("decision", ""),
                                 reason=request.form.get("reason", ""))
    return done(f"Request {row['id']} {row['status']}.", "sharing.index")


@bp.post("/fulfil")
@permission("compliance.manage")
@on_error(shown_on(_page))
def fulfil() -> ResponseReturnValue:
    """Build the export package of an approved request."""
    path = sharing.fulfil_request(engine(), settings(), caller(), form_id("request_id"))
    return done(f"Export package {path.name} built: download it from your sharing packages "
                "below.", "sharing.index")
