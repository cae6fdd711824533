"""Hotlists (462.3, 462.7(4), 462.7.1(2)(3)): lists, versions, approvals, a plate's history.

A list that is not an official feed is entered by hand: its upload states a case
number, a reason and an expiry and waits in the administrators' approval queue.
The plate history answers who watched a plate, since when, on whose word, and
what hits each list raised. Matching a listed plate against past reads is a
search: requested with a purpose and a case number, approved, then run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.alerts import hotlist_edits, hotlists
from web.agency import form_time, local_input
from web.forms import back_to, confirmed, done, on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("hotlists", __name__)

ENTRY_LIMIT = 500


def _page(**context: Any) -> str:
    rules = settings().hotlists
    user = caller()
    pending = (len(hotlists.pending_versions(engine(), user))
               if hotlists.roles_allow(user, hotlists.APPROVE) else None)
    return render_template("hotlists/index.html",
                           lists=hotlists.overview(engine(), user),
                           official=rules.official_names(),
                           pending=pending,
                           default_expiry=local_input(datetime.now(UTC) + timedelta(days=7)),
                           form=request.form, **context)


@bp.get("/hotlists")
@permission("hotlists.view")
def index() -> str:
    """Every list with its size and last update; upload and partial-plate forms."""
    return _page()


@bp.post("/hotlists/upload")
@permission("hotlists.manage")
@on_error(lambda exc: _page(error=exc))
def upload() -> ResponseReturnValue:
    """Import a hotlist file as a new version of a list (audited)."""
    file = request.files.get("file")
    data = file.read() if file is not None and file.filename else None
    form = request.form
    report = hotlists.upload_list(engine(), settings().hotlists, caller(),
                                  form.get("list_name", ""), data,
                                  case_number=form.get("case_number", ""),
                                  reason=form.get("reason", ""),
                                  expires_at=form_time("expires_at"))
    return _page(report=report), 400 if report.refused else 200


@bp.post("/hotlists/partial")
@permission("hotlists.manage")
@on_error(lambda exc: _page(partial_error=exc))
def partial() -> ResponseReturnValue:
    """Enter a partial plate from a major incident, with its expiry (audited, approved)."""
    form = request.form
    version = hotlists.enter_partial(engine(), caller(), list_name=form.get("list_name", ""),
                                     pattern=form.get("pattern", ""),
                                     expires_at=form_time("expires_at"),
                                     reason=form.get("reason", ""), state=form.get("state", ""),
                                     case_number=form.get("case_number", ""),
                                     rules=settings().hotlists)
    return _page(partial_added=form.get("pattern", "").upper(), partial_version=version), 200


@bp.get("/hotlists/approvals")
@permission("hotlists.approve")
def approvals() -> str:
    """The administrators' queue: hand-entered versions and historical-match requests."""
    user = caller()
    return render_template(
        "hotlists/approvals.html", versions=hotlists.pending_versions(engine(), user),
        requests=[r for r in hotlists.historical_requests(engine(), user)
                  if r["status"] == "pending"], me=user.username)


@bp.post("/hotlists/versions/<int:version_id>/decide")
@permission("hotlists.approve")
@on_error(back_to("hotlists.approvals"))
def decide(version_id: int) -> ResponseReturnValue:
    """Approve (in force from now) or reject a hand-entered version (audited)."""
    approve = request.form.get("decision") == "approve"
    version = hotlists.decide_version(engine(), caller(), version_id, approve=approve,
                                      note=request.form.get("note", ""))
    return done(f"Version {version['version']} of {version['list_name']} "
                f"{'approved: it raises hits from now' if approve else 'rejected'}.",
                "hotlists.approvals")


@bp.get("/hotlists/versions/<int:version_id>")
@permission("hotlists.view")
def version(version_id: int) -> str:
    """One kept version: who entered it, on which case, who approved it, its entries."""
    view = hotlists.view_version(engine(), caller(), version_id, ENTRY_LIMIT)
    return render_template("hotlists/version.html", v=view.version, rows=view.entries,
                           digest_ok=view.digest_ok, limit=ENTRY_LIMIT, now=datetime.now(UTC))


@bp.get("/hotlists/history")
@permission("hotlists.view")
@on_error(lambda exc: render_template("hotlists/history.html", plate=request.args.get(
    "plate", ""), items=None, error=exc))
def history() -> str:
    """For a plate: every list version that held it, on whose word, when, and its hits."""
    plate = request.args.get("plate", "")
    items = hotlists.plate_history(engine(), caller(), plate) if plate.strip() else None
    return render_template("hotlists/history.html", plate=plate, items=items,
                           purposes=settings().search.purposes,
                           can_search=hotlists.roles_allow(caller(), hotlists.SEARCH))


@bp.post("/hotlists/historical")
@permission("search")
@on_error(back_to("hotlists.historical_list"))
def historical_request() -> ResponseReturnValue:
    """Ask to match a listed entry against past reads (purpose, case number; audited)."""
    form = request.form
    request_id = hotlists.request_historical(
        engine(), settings(), caller(), form.get("entry_id", ""),
        purpose=form.get("purpose", ""), case_number=form.get("case_number", ""))
    return done(f"Request {request_id} recorded: it runs once another administrator "
                "approves it.", "hotlists.historical_list")


@bp.get("/hotlists/historical")
@permission("search")
def historical_list() -> str:
    """The caller's historical-match requests (and, for an approver, those pending)."""
    return render_template("hotlists/historical.html",
                           requests=hotlists.historical_requests(engine(), caller()),
                           me=caller().username)


@bp.post("/hotlists/historical/<int:request_id>/decide")
@permission("hotlists.approve")
@on_error(back_to("hotlists.approvals"))
def historical_decide(request_id: int) -> ResponseReturnValue:
    """Approve or refuse a historical-match request (never one's own; audited)."""
    approve = request.form.get("decision") == "approve"
    hotlists.decide_historical(engine(), caller(), request_id, approve=approve)
    return done(f"Request {request_id} {'approved' if approve else 'refused'}.",
                "hotlists.approvals")


@bp.post("/hotlists/historical/<int:request_id>/run")
@permission("search")
@on_error(back_to("hotlists.historical_list"))
def historical_run(request_id: int) -> ResponseReturnValue:
    """Run an approved request: a search, audited as ``search.historical``."""
    result = hotlists.run_historical(engine(), settings(), caller(), request_id)
    return render_template("hotlists/historical_result.html", result=result,
                           limit=settings().search.max_results)


@bp.get("/hotlists/<list_name>")
@permission("hotlists.view")
def entries(list_name: str) -> str:
    """The active entries of one list (the view is audited) and its kept versions."""
    user = caller()
    rows = hotlists.view_list(engine(), user, list_name, ENTRY_LIMIT)
    rules = settings().hotlists
    return render_template("hotlists/entries.html", name=list_name, rows=rows,
                           versions=hotlists.list_versions(engine(), user, list_name),
                           official=rules.official_names(),
                           now=datetime.now(UTC), limit=ENTRY_LIMIT)



@bp.post("/hotlists/<list_name>/enabled")
@permission("hotlists.manage")
@on_error(back_to("hotlists.index"))
def set_enabled(list_name: str) -> ResponseReturnValue:
    """Disable a list (it raises no hits; kept) or enable it again (an administrator)."""
    enabled = request.form.get("enabled") == "yes"
    if not enabled:
        confirmed(f"disable {list_name} (it raises no hits until enabled again)")
    hotlist_edits.set_list_enabled(engine(), caller(), list_name, enabled)
    return done(f"{list_name} {'enabled' if enabled else 'disabled'}.", "hotlists.index")


@bp.post("/hotlists/<list_name>/change")
@permission("hotlists.manage")
@on_error(back_to("hotlists.entries"))
def change_entry(list_name: str) -> ResponseReturnValue:
    """End an entry of a hand-entered list, or change its expiry, as a new version."""
    form = request.form
    if not form.get("expires_at", "").strip():
        confirmed("end the entry (it raises no more hits)")
    version = hotlist_edits.change_entry(
        engine(), settings().hotlists, caller(), list_name, form.get("entry_id", ""),
        expires_at=form_time("expires_at"), reason=form.get("reason", ""),
        case_number=form.get("case_number", ""))
    flash(f"Version {version['version']} of {list_name} "
          f"{'is in force' if version['status'] == 'approved' else 'waits for approval'}.",
          "info")
    return redirect(url_for("hotlists.entries", list_name=list_name), 303)
