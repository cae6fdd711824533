"""Evidence holds (462.10): hold reads from search results, export them for evidence."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import holds, packages
from web.forms import confirmed, done, form_id, on_error, shown_on
from web.security import caller, engine, permission, settings

bp = Blueprint("holds", __name__, url_prefix="/holds")


def _page(**context: Any) -> str:
    return render_template("holds/index.html", holds=holds.holds_on_file(engine(), caller()),
                           packages=packages.my_packages(engine(), caller(), "evidence"),
                           form=request.form, args=request.args, **context)


def _uuids() -> list[str]:
    form = request.form
    return form.getlist("read_uuid") + form.get("read_uuids", "").replace(",", " ").split()


@bp.get("")
@permission("holds.manage")
def index() -> str:
    """Holds on file and the form to place reads under a hold."""
    return _page()


@bp.post("")
@permission("holds.manage")
@on_error(shown_on(_page))
def create() -> ResponseReturnValue:
    """Place reads (chosen, pasted, or all results of one's search) under a new hold."""
    hold_id = holds.place_hold(engine(), caller(),
                               case_number=request.form.get("case_number", ""),
                               reason=request.form.get("reason", ""), read_uuids=_uuids(),
                               search_id=request.form.get("search_id", ""))
    return done(f"Hold {hold_id} placed.", "holds.index")


@bp.post("/add")
@permission("holds.manage")
@on_error(shown_on(_page))
def add() -> ResponseReturnValue:
    """Attach more reads (chosen, pasted, or one's search results) to an open hold."""
    hold_id = form_id("hold_id")
    added = holds.attach_reads(engine(), caller(), hold_id, read_uuids=_uuids(),
                               search_id=request.form.get("search_id", ""))
    return done(f"{added} reads added to hold {hold_id}.", "holds.index")


@bp.post("/release")
@permission("holds.manage")
@on_error(shown_on(_page))
def release() -> ResponseReturnValue:
    """Release a hold (its reads return to the retention schedule)."""
    hold_id = form_id("hold_id")
    confirmed(f"release hold {hold_id} (its reads return to the retention schedule)")
    holds.release(engine(), caller(), hold_id)
    return done(f"Hold {hold_id} released.", "holds.index")


@bp.post("/export")
@permission("holds.manage")
@on_error(shown_on(_page))
def export() -> ResponseReturnValue:
    """Write the evidence package of a hold for booking into evidence."""
    path = holds.export_hold(engine(), settings(), caller(), form_id("hold_id"))
    return done(f"Evidence package {path.name} built: download it from your evidence "
                "packages below.", "holds.index")
