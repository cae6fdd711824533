"""The supervisor's review of the quarterly audit's random sample of searches (462.6).

Each sampled search is marked justified or not, with a note, by an administrator
other than the user who searched; the quarter's review is recorded only once every
sampled search is marked. The use cases (``controller.compliance.audit_sample``)
check the caller and write the audit records.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.compliance import audit_sample
from web.forms import form_id, on_error, shown_on
from web.security import caller, engine, permission

bp = Blueprint("samples", __name__, url_prefix="/compliance/audits/sample")


def _page(**context: Any) -> str:
    quarter = request.form.get("quarter", request.args.get("quarter", ""))
    return render_template("samples/index.html", verdicts=audit_sample.VERDICTS,
                           form=request.form,
                           **audit_sample.review_page(engine(), caller(), quarter), **context)


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """A quarter's sampled searches with their seed, method and review state."""
    return _page()


@bp.post("")
@permission("compliance.manage")
@on_error(shown_on(_page))
def mark() -> ResponseReturnValue:
    """Mark one sampled search justified or not, with a note."""
    item = audit_sample.mark(engine(), caller(), form_id("item_id"),
                             verdict=request.form.get("verdict", ""),
                             note=request.form.get("note", ""))
    return redirect(url_for("samples.index", quarter=item["quarter"]) + f"#item-{item['id']}",
                    303)
