"""The record of access (462.5, 462.6): filter by user, action, plate and date; chain check.

Pages go by entry number (keyset: "older than #N", "newer than #N"), so a page stays
right while entries are added and costs the same deep in the log as at its head.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from controller.compliance import audit_log
from controller.errors import SightlineError
from web.agency import zone
from web.forms import on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("audit", __name__)

FILTERS = ("actor", "action", "plate", "since", "until")


def _page(page: audit_log.AuditPage | None, error: SightlineError | None = None) -> str:
    args = request.args
    return render_template("audit/index.html", page=page, rows=page.rows if page else [],
                           report=audit_log.verify_log(engine(), caller(), settings()),
                           error=error, args=args,
                           kept={k: args[k] for k in FILTERS if args.get(k)},
                           actions=audit_log.action_choices(engine(), caller()),
                           label=audit_log.action_label, page_size=audit_log.PAGE_SIZE)


@bp.get("/audit")
@permission("audit.view")
@on_error(lambda exc: _page(None, exc))
def index() -> str:
    """A page of the matching entries, newest first, and the whole chain's verification."""
    args = request.args
    filters = audit_log.AuditFilters(**{k: args.get(k, "") for k in FILTERS},
                                     before=args.get("before", ""), after=args.get("after", ""),
                                     zone=zone())
    return _page(audit_log.search_log(engine(), caller(), filters))
