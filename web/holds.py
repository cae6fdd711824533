"""Evidence holds (462.10): hold reads from search results, export them for evidence."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import holds
from controller.errors import ValidationError
from web.compliance import act, form_int, who
from web.security import engine, permission, settings

bp = Blueprint("holds", __name__, url_prefix="/holds")


def _page(**context: Any) -> str:
    return render_template("holds/index.html", holds=holds.list_holds(engine()),
                           form=request.form, args=request.args, **context)


@bp.get("")
@permission("holds.manage")
def index() -> str:
    """Holds on file and the form to place reads under a hold."""
    return _page()


def _uuids() -> list[str]:
    form = request.form
    uuids = form.getlist("read_uuid") + form.get("read_uuids", "").replace(",", " ").split()
    search_id = form.get("search_id", "").strip()
    if search_id:
        try:
            event_id = int(search_id)
        except ValueError:
            raise ValidationError("search_id", "a search number is required") from None
        uuids += holds.reads_of_search(engine(), event_id, str(g.user["username"]))
    return uuids


@bp.post("")
@permission("holds.manage")
def create() -> ResponseReturnValue:
    """Place reads (chosen, pasted, or all results of one's search) under a new hold."""
    def go() -> str:
        hold_id = holds.create_hold(engine(), case_number=request.form.get("case_number", ""),
                                    reason=request.form.get("reason", ""),
                                    read_uuids=_uuids(), **who())
        return f"Hold {hold_id} placed."
    return act(go, _page, "holds.index")


@bp.post("/add")
@permission("holds.manage")
def add() -> ResponseReturnValue:
    """Attach more reads (chosen, pasted, or one's search results) to an open hold."""
    def go() -> str:
        hold_id = form_int("hold_id")
        added = holds.add_reads(engine(), hold_id, _uuids(), **who())
        return f"{added} reads added to hold {hold_id}."
    return act(go, _page, "holds.index")


@bp.post("/release")
@permission("holds.manage")
def release() -> ResponseReturnValue:
    """Release a hold (its reads return to the retention schedule)."""
    def go() -> str:
        hold_id = form_int("hold_id")
        holds.release_hold(engine(), hold_id, **who())
        return f"Hold {hold_id} released."
    return act(go, _page, "holds.index")


@bp.post("/export")
@permission("holds.manage")
def export() -> ResponseReturnValue:
    """Write the evidence package of a hold for booking into evidence."""
    def go() -> str:
        out = settings().data_dir / "exports" / "evidence"
        out.mkdir(parents=True, exist_ok=True)
        path = holds.export_evidence(engine(), settings(), form_int("hold_id"), out, **who())
        return f"Evidence package written to {path}."
    return act(go, _page, "holds.index")
