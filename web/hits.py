"""Hits (462.7(7)): a live queue under an UNVERIFIED banner, CLETS outcomes, history.

The queue page polls ``/hits/queue`` (an HTML fragment) every few seconds, so a
dispatcher's browser never holds one of the server's worker threads open.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.alerts import dispatch
from controller.alerts import hits as use
from controller.errors import SightlineError
from web.agency import zone
from web.forms import back_to, on_error
from web.security import caller, engine, permission

bp = Blueprint("hits", __name__)


def _filters() -> use.HitFilters:
    args = request.args
    return use.HitFilters(verification=args.get("verification", ""),
                          plate=args.get("plate", ""), since=args.get("since", ""),
                          until=args.get("until", ""), zone=zone())


def _page(history: list[use.HitRow], error: SightlineError | None = None) -> str:
    return render_template("hits/index.html", queue=use.unverified(engine(), caller()),
                           history=history, error=error, args=request.args,
                           labels=use.OUTCOME_LABELS)


@bp.get("/hits")
@permission("hits.view")
@on_error(lambda exc: _page([], exc))
def index() -> ResponseReturnValue:
    """The queue of unverified hits and the filtered history."""
    return _page(use.history(engine(), caller(), _filters()))


@bp.get("/hits/queue")
@permission("hits.view")
def queue() -> str:
    """The unverified queue alone, for the page's periodic refresh."""
    return render_template("hits/_queue.html", queue=use.unverified(engine(), caller()))


@bp.get("/hits/<hit_uuid>")
@permission("hits.view")
def detail(hit_uuid: str) -> str:
    """One hit: the read, the hotlist entry as matched, and the verification form."""
    hit = use.view_hit(engine(), caller(), hit_uuid)
    return render_template("hits/detail.html", hit=hit, labels=use.OUTCOME_LABELS,
                           outcomes=dispatch.OUTCOMES, notice=dispatch.VERIFICATION_NOTICE)


@bp.post("/hits/<hit_uuid>/verify")
@permission("hits.verify")
@on_error(back_to("hits.detail"))
def verify(hit_uuid: str) -> ResponseReturnValue:
    """Record the CLETS verification outcome (audited by the controller)."""
    label = use.verify_hit(engine(), caller(), hit_uuid, request.form.get("outcome", ""),
                           request.form.get("note", ""))
    flash(f"Recorded: {label}.", "info")
    return redirect(url_for("hits.index")), 303
