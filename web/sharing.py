"""Releasing data to other agencies (462.12): requests, decisions, export packages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import sharing
from controller.errors import ValidationError
from controller.store import webviews
from web.compliance import act, form_date, form_int, who
from web.forms import parse_time
from web.security import engine, permission, settings

bp = Blueprint("sharing", __name__, url_prefix="/compliance/sharing")


def export_dir() -> Any:
    """Where sharing packages are written."""
    return settings().data_dir / "exports" / "sharing"


def _page(**context: Any) -> str:
    return render_template("compliance/sharing.html", requests=sharing.list_requests(engine()),
                           kinds=sharing.AGENCY_KINDS, rules=settings().sharing,
                           cameras=webviews.camera_choices(engine()), form=request.form,
                           today=datetime.now(UTC).date(), **context)


def parse_scope() -> sharing.Scope:
    """The scope fields of the request form."""
    form = request.form
    camera_ids = []
    for value in form.getlist("cameras"):
        try:
            camera_ids.append(int(value))
        except ValueError:
            raise ValidationError("cameras", f"{value!r} is not a camera") from None
    plates = form.get("plates", "").replace(",", " ").split()
    return sharing.make_scope(plates, parse_time("since", form.get("since", "")),
                              parse_time("until", form.get("until", "")), camera_ids)


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """Requests on file and the form to enter a written request."""
    return _page()


@bp.post("")
@permission("compliance.manage")
def enter() -> ResponseReturnValue:
    """Enter a written request; refused or routed at once where the rules say so."""
    def go() -> str:
        form = request.form
        row = sharing.enter_request(
            engine(), settings(), agency=form.get("agency", ""), ori=form.get("ori", ""),
            state=form.get("state", ""), kind=form.get("kind", ""),
            requester_name=form.get("requester_name", ""), purpose=form.get("purpose", ""),
            case_number=form.get("case_number", ""), scope=parse_scope(),
            received_on=form_date("received_on"), **who())
        reason = f": {row['decision_reason']}" if row["decision_reason"] else ""
        return f"Request {row['id']} from {row['agency']} recorded as {row['status']}{reason}."
    return act(go, _page, "sharing.index")


@bp.post("/decide")
@permission("compliance.manage")
def decide() -> ResponseReturnValue:
    """Approve or deny a pending request, with a reason."""
    def go() -> str:
        decision = request.form.get("decision", "")
        if decision not in ("approve", "deny"):
            raise ValidationError("decision", "approve or deny")
        row = sharing.decide(engine(), form_int("request_id"), approve=decision == "approve",
                             reason=request.form.get("reason", ""), **who())
        return f"Request {row['id']} {row['status']}."
    return act(go, _page, "sharing.index")


@bp.post("/fulfil")
@permission("compliance.manage")
def fulfil() -> ResponseReturnValue:
    """Build the export package of an approved request."""
    def go() -> str:
        out = export_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = sharing.fulfil(engine(), settings(), form_int("request_id"), out, **who())
        return f"Export package written to {path}."
    return act(go, _page, "sharing.index")
