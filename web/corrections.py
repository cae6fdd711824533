"""Corrections and annotations of reads (Civil Code 1798.90.51), and re-verification of
hits (462.7(7)): the routes, and the helpers the read and hit pages include.

The read and hit pages themselves belong to ``web.reads`` and ``web.hits``; they
include ``corrections/_read.html`` and ``corrections/_hit.html``, which call the
template helpers registered here. Every change is a use case that checks the
caller and writes the audit record.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.alerts import hits as hit_use
from controller.errors import SightlineError
from controller.search import corrections, views
from web.forms import back_to, on_error, plain
from web.security import caller, can, engine, permission

bp = Blueprint("corrections", __name__)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    def read_corrections(read_uuid: str) -> list[corrections.CorrectionRow]:
        return corrections.history(engine(), caller(), read_uuid)

    def hit_verifications(hit_uuid: str) -> list[hit_use.VerificationRow]:
        return hit_use.verification_history(engine(), caller(), hit_uuid)

    return {"read_corrections": read_corrections, "hit_verifications": hit_verifications}


def _read_page(read_uuid: str, **context: Any) -> str:
    read = views.view_read(engine(), caller(), read_uuid)
    rows = corrections.history(engine(), caller(), read_uuid)
    return render_template("corrections/read.html", read=read, rows=rows,
                           current=corrections.current_plate(read, rows),
                           form=request.form, may_correct=can(corrections.CORRECT),
                           **context)


@bp.get("/reads/<read_uuid>/corrections")
@permission("reads.view")
def read_page(read_uuid: str) -> str:
    """A read's original plate, its corrections and annotations, and the forms to add one."""
    return _read_page(read_uuid)


def _shown(exc: SightlineError) -> str:
    return _read_page(str((request.view_args or {})["read_uuid"]), error=plain(exc))


@bp.post("/reads/<read_uuid>/corrections")
@permission("reads.correct")
@on_error(_shown)
def correct(read_uuid: str) -> ResponseReturnValue:
    """Record the corrected plate of a misread read, with the reason."""
    fixed = corrections.correct(engine(), caller(), read_uuid,
                                plate=request.form.get("plate", ""),
                                reason=request.form.get("reason", ""))
    flash(f"Corrected to {fixed}; the original read is kept.", "info")
    return redirect(url_for("corrections.read_page", read_uuid=read_uuid), 303)


@bp.post("/reads/<read_uuid>/annotations")
@permission("reads.correct")
@on_error(_shown)
def annotate(read_uuid: str) -> ResponseReturnValue:
    """Add an annotation to a read."""
    corrections.annotate(engine(), caller(), read_uuid, note=request.form.get("note", ""))
    flash("Annotation recorded.", "info")
    return redirect(url_for("corrections.read_page", read_uuid=read_uuid), 303)


@bp.post("/hits/<hit_uuid>/reverify")
@permission("hits.verify")
@on_error(back_to("hits.detail"))
def reverify(hit_uuid: str) -> ResponseReturnValue:
    """Record a later verification outcome of a verified hit, with its reason."""
    label = hit_use.reverify_hit(engine(), caller(), hit_uuid,
                                 request.form.get("outcome", ""),
                                 request.form.get("reason", ""))
    flash(f"Re-verified: {label}. The earlier outcome is kept in the history.", "info")
    return redirect(url_for("hits.detail", hit_uuid=hit_uuid), 303)

