"""The record of access (462.5, 462.6): filter by user, action, plate and date; chain check."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from controller.compliance import audit_log
from controller.errors import SightlineError
from web.agency import zone
from web.forms import on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("audit", __name__)


def _page(rows: list[audit_log.AuditRow], error: SightlineError | None = None) -> str:
    return render_template("audit/index.html", rows=rows,
                           report=audit_log.verify_log(engine(), caller(), settings()), error=error,
                           args=request.args, page_size=audit_log.PAGE_SIZE)


@bp.get("/audit")
@permission("audit.view")
@on_error(lambda exc: _page([], exc))
def index() -> str:
    """The newest matching entries and the result of verifying the whole chain."""
    args = request.args
    filters = audit_log.AuditFilters(actor=args.get("actor", ""), action=args.get("action", ""),
                                     plate=args.get("plate", ""), since=args.get("since", ""),
                                     until=args.get("until", ""), zone=zone())
    return _page(audit_log.search_log(engine(), caller(), filters))
