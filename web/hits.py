"""Hits (462.7(7)): a live queue under an UNVERIFIED banner, CLETS outcomes, history.

The queue page polls ``/hits/queue`` (an HTML fragment) every few seconds, so a
dispatcher's browser never holds one of the server's worker threads open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller import audit
from controller.alerts import dispatch
from controller.errors import NotFound, ValidationError
from controller.store import hits as hit_repo
from web.search import normalise_plate
from web.security import client_addr, engine, permission

bp = Blueprint("hits", __name__)

OUTCOME_LABELS = {
    "pending": "Unverified",
    "confirmed": "Confirmed through CLETS",
    "not_confirmed": "Not confirmed",
    "not_practicable": "Verification not practicable",
}
QUEUE_LIMIT = 100
HISTORY_LIMIT = 200


def _history_filters(args: dict[str, str]) -> dict[str, Any]:
    outcome = args.get("verification", "").strip()
    if outcome and outcome not in OUTCOME_LABELS:
        raise ValidationError("verification", "not a verification outcome")
    filters: dict[str, Any] = {"verification": outcome or None,
                               "plate": normalise_plate(args.get("plate", "")) or None}
    for name in ("since", "until"):
        value = args.get(name, "").strip()
        if value:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError(name, "enter a date as YYYY-MM-DD") from None
            moment = datetime.combine(day, time(), UTC)
            filters[name] = moment + timedelta(days=1) if name == "until" else moment
    return filters


@bp.get("/hits")
@permission("hits.view")
def index() -> ResponseReturnValue:
    """The queue of unverified hits and the filtered history."""
    error = None
    try:
        filters = _history_filters(request.args.to_dict())
        history = hit_repo.list_hits(engine(), limit=HISTORY_LIMIT, **filters)
    except ValidationError as exc:
        error, history = exc, []
    queue = hit_repo.list_hits(engine(), verification="pending", limit=QUEUE_LIMIT)
    return render_template("hits/index.html", queue=queue, history=history, error=error,
                           args=request.args, labels=OUTCOME_LABELS), 400 if error else 200


@bp.get("/hits/queue")
@permission("hits.view")
def queue() -> str:
    """The unverified queue alone, for the page's periodic refresh."""
    rows = hit_repo.list_hits(engine(), verification="pending", limit=QUEUE_LIMIT)
    return render_template("hits/_queue.html", queue=rows)


def _hit(hit_uuid: str) -> dict[str, Any]:
    try:
        return hit_repo.get_hit(engine(), hit_uuid)
    except NotFound:
        abort(404, description=f"no hit {hit_uuid}")


@bp.get("/hits/<hit_uuid>")
@permission("hits.view")
def detail(hit_uuid: str) -> str:
    """One hit: the read, the hotlist entry as matched, and the verification form."""
    hit = _hit(hit_uuid)
    audit.record(engine(), audit.AuditEvent(
        actor=str(g.user["username"]), action="hit.view", plate=str(hit["plate"]),
        client_addr=client_addr(), data={"hit": hit_uuid, "read": hit["read_uuid"]}))
    return render_template("hits/detail.html", hit=hit, labels=OUTCOME_LABELS,
                           outcomes=dispatch.OUTCOMES, notice=dispatch.VERIFICATION_NOTICE)


@bp.post("/hits/<hit_uuid>/verify")
@permission("hits.verify")
def verify(hit_uuid: str) -> ResponseReturnValue:
    """Record the CLETS verification outcome (audited by controller.alerts.dispatch)."""
    _hit(hit_uuid)
    note = request.form.get("note", "").strip()
    try:
        if len(note) > 500:
            raise ValidationError("note", "is longer than 500 characters")
        dispatch.record_verification(engine(), hit_uuid, request.form.get("outcome", ""),
                                     actor=str(g.user["username"]), note=note or None,
                                     client_addr=client_addr())
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("hits.detail", hit_uuid=hit_uuid)), 303
    flash(f"Recorded: {OUTCOME_LABELS[request.form['outcome']]}.", "info")
    return redirect(url_for("hits.index")), 303
