"""Hits for dispatch (462.7(7)): the alert queue under an UNVERIFIED banner, one alert with
its images and the CLETS outcome, one hit, the history of hits.

The queue page polls ``/hits/queue`` (an HTML fragment) every few seconds, so a
dispatcher's browser never holds one of the server's worker threads open; the
page's script (``static/hits.js``) also sounds and shows a desktop notification for
alerts that were not on the page before, once the user has opted in.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.alerts import dispatch
from controller.alerts import hits as use
from controller.alerts import queue as alerts
from controller.errors import SightlineError, ValidationError
from web.agency import zone
from web.forms import back_to, on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("hits", __name__)

# The hit page's banner: the word UNVERIFIED stands in bold before it.
BANNER = "Confirm through CLETS before any enforcement action."


def _filters() -> use.HitFilters:
    args = request.args
    return use.HitFilters(verification=args.get("verification", ""),
                          plate=args.get("plate", ""), since=args.get("since", ""),
                          until=args.get("until", ""), zone=zone())


def _alert_filters() -> alerts.AlertFilters:
    args = request.args
    return alerts.AlertFilters(state=args.get("state", "active"), plate=args.get("a_plate", ""),
                               list_name=args.get("list", ""), camera=args.get("camera", ""),
                               since=args.get("a_since", ""), until=args.get("a_until", ""),
                               page=args.get("page", "1"), zone=zone())


def _queue() -> alerts.AlertPage:
    return alerts.alert_queue(engine(), caller(), _alert_filters(),
                              page_size=settings().alerts.page_size)


def _page(history: list[use.HitRow], error: SightlineError | None = None) -> str:
    try:
        queue, queue_error = _queue(), None
    except ValidationError as exc:  # a bad queue filter is named above the queue
        queue, queue_error = alerts.alert_queue(engine(), caller(), alerts.AlertFilters(),
                                                page_size=settings().alerts.page_size), exc
    return render_template("hits/index.html", queue=queue, queue_error=queue_error,
                           history=history, error=error, args=request.args,
                           labels=use.OUTCOME_LABELS, states=alerts.STATE_LABELS)


@bp.get("/hits")
@permission("hits.view")
@on_error(lambda exc: _page([], exc))
def index() -> ResponseReturnValue:
    """The alert queue (filtered, paged) and the filtered history of hits."""
    return _page(use.history(engine(), caller(), _filters()))


@bp.get("/hits/queue")
@permission("hits.view")
def queue() -> str:
    """The alert queue alone, with the page's filter, for the page's periodic refresh."""
    return render_template("hits/_queue.html", queue=_queue(), args=request.args,
                           labels=use.OUTCOME_LABELS, states=alerts.STATE_LABELS)


@bp.get("/hits/<hit_uuid>")
@permission("hits.view")
def detail(hit_uuid: str) -> str:
    """One hit: the read with its images, the hotlist entry as matched, the verification."""
    hit = use.view_hit(engine(), caller(), hit_uuid)
    return render_template("hits/detail.html", hit=hit, labels=use.OUTCOME_LABELS,
                           outcomes=dispatch.OUTCOMES, notice=BANNER)


@bp.post("/hits/<hit_uuid>/verify")
@permission("hits.verify")
@on_error(back_to("hits.detail"))
def verify(hit_uuid: str) -> ResponseReturnValue:
    """Record the CLETS verification outcome (audited by the controller)."""
    label = use.verify_hit(engine(), caller(), hit_uuid, request.form.get("outcome", ""),
                           request.form.get("note", ""))
    flash(f"Recorded: {label}.", "info")
    return redirect(url_for("hits.index")), 303


@bp.get("/alerts/<int:alert_id>")
@permission("hits.view")
def alert(alert_id: int) -> str:
    """One alert: its images, lists, sightings and hits, and dispatch's actions."""
    found = alerts.view_alert(engine(), caller(), alert_id)
    return render_template("hits/alert.html", alert=found.alert, hits=found.hits,
                           labels=use.OUTCOME_LABELS, states=alerts.STATE_LABELS,
                           outcomes=dispatch.OUTCOMES, notice=BANNER)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@permission("hits.verify")
@on_error(back_to("hits.alert"))
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """Take a new alert: dispatch has it (audited)."""
    alerts.acknowledge(engine(), caller(), alert_id)
    flash("Alert acknowledged.", "info")
    return redirect(url_for("hits.alert", alert_id=alert_id)), 303


@bp.post("/alerts/<int:alert_id>/verify")
@permission("hits.verify")
@on_error(back_to("hits.alert"))
def verify_alert(alert_id: int) -> ResponseReturnValue:
    """Record the CLETS outcome of an alert and its hits (audited)."""
    label = alerts.verify(engine(), caller(), alert_id, request.form.get("outcome", ""),
                          request.form.get("note", ""))
    flash(f"Recorded: {label}.", "info")
    return redirect(url_for("hits.index")), 303


@bp.post("/alerts/<int:alert_id>/dismiss")
@permission("hits.verify")
@on_error(back_to("hits.alert"))
def dismiss(alert_id: int) -> ResponseReturnValue:
    """Close an alert without a CLETS check, with the reason (audited)."""
    alerts.dismiss(engine(), caller(), alert_id, request.form.get("reason", ""))
    flash("Alert dismissed.", "info")
    return redirect(url_for("hits.index")), 303
