"""The record of access (462.5, 462.6): filter by user, action, plate and date; chain check."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request

from controller import audit
from controller.errors import ValidationError
from controller.store import audit as audit_repo
from web.search import normalise_plate
from web.security import engine, permission

bp = Blueprint("audit", __name__)

PAGE_SIZE = 200


def _day(name: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, "enter a date as YYYY-MM-DD") from None


def parse_filters(args: dict[str, str]) -> dict[str, Any]:
    """Turn the filter form into ``audit_repo.search`` keywords (dates are UTC days)."""
    since, until = _day("since", args.get("since", "")), _day("until", args.get("until", ""))
    if since and until and until < since:
        raise ValidationError("until", "the last day is before the first")
    return {
        "actor": args.get("actor", "").strip() or None,
        "action": args.get("action", "").strip() or None,
        "plate": normalise_plate(args.get("plate", "")) or None,
        "since": datetime.combine(since, time(), UTC) if since else None,
        "until": datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
    }


@bp.get("/audit")
@permission("audit.view")
def index() -> tuple[str, int]:
    """The newest matching entries and the result of verifying the whole chain."""
    error = None
    try:
        filters = parse_filters(request.args.to_dict())
        rows = audit_repo.search(engine(), limit=PAGE_SIZE, **filters)
    except ValidationError as exc:
        error, rows = exc, []
    report = audit.verify(engine())
    return render_template("audit/index.html", rows=rows, report=report, error=error,
                           args=request.args, page_size=PAGE_SIZE), 400 if error else 200
