"""Searching reads (462.7): exact, partial and canvass, each with purpose, case and attestation.

A search runs only when the form states a purpose from the configured list, a
case number (unless the settings waive it) and the attestation of official
law-enforcement use (462.7.1(2)(3)). Every search, refused or run, is written
to the audit log with the plate or pattern, purpose, case number and result
count; the entry's number then authorises the result thumbnails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from controller import audit
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from web.security import client_addr, engine, permission, settings

bp = Blueprint("search", __name__)

MODES = ("exact", "partial", "canvass")
EXACT = re.compile(r"^[A-Z0-9]{1,16}$")
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$")
MAX_RADIUS_M = 50_000.0
# Stands for a read's uuid in link patterns built once per result page.
READ_SLOT = "READ-UUID-SLOT"


@dataclass
class SearchRequest:
    """A validated search."""

    mode: str
    purpose: str
    case_number: str | None
    plate: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    camera_ids: list[int] = field(default_factory=list)
    place: dict[str, float] | None = None


def normalise_plate(text: str) -> str:
    """Upper-case and drop spaces, dashes and dots, as plates are stored."""
    return re.sub(r"[\s.\-]", "", text).upper()


def parse_time(name: str, value: str) -> datetime | None:
    """A UTC time from a ``datetime-local`` field (empty: None)."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, "enter a date and time as YYYY-MM-DDTHH:MM (UTC)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _number(form: MultiDict[str, str], name: str, low: float, high: float) -> float:
    try:
        value = float(form.get(name, ""))
    except ValueError:
        raise ValidationError(name, "enter a number") from None
    if not low <= value <= high:
        raise ValidationError(name, f"must be between {low:g} and {high:g}")
    return value


def _justification(form: MultiDict[str, str], config: Settings) -> tuple[str, str | None]:
    purpose = form.get("purpose", "").strip()
    if purpose not in config.search.purposes:
        raise ValidationError("purpose", "choose the purpose of this search from the list")
    case = form.get("case_number", "").strip()
    if case and not CASE_NUMBER.match(case):
        raise ValidationError("case_number", "use letters, digits, spaces and . / _ - only "
                                             "(64 at most)")
    if not case and config.search.case_number_required:
        raise ValidationError("case_number", "a case number is required for every search")
    if form.get("attest") != "yes":
        raise ValidationError("attest", "attest that this search is for official "
                                        "law-enforcement use")
    return purpose, case or None


def _canvass_cameras(form: MultiDict[str, str], req: SearchRequest) -> None:
    chosen = form.getlist("camera_ids")
    if chosen:
        try:
            req.camera_ids = sorted({int(c) for c in chosen})
        except ValueError:
            raise ValidationError("camera_ids", "not a camera") from None
        return
    if not form.get("latitude") and not form.get("longitude"):
        raise ValidationError("camera_ids", "choose cameras, or give a point and radius")
    req.place = {"latitude": _number(form, "latitude", -90, 90),
                 "longitude": _number(form, "longitude", -180, 180),
                 "radius_m": _number(form, "radius_m", 1, MAX_RADIUS_M)}
    req.camera_ids = site_repo.cameras_near(engine(), req.place["latitude"],
                                            req.place["longitude"], req.place["radius_m"])


def parse_search(form: MultiDict[str, str], config: Settings) -> SearchRequest:
    """Validate the search form; raise ValidationError naming the first bad field."""
    mode = form.get("mode", "exact")
    if mode not in MODES:
        raise ValidationError("mode", "choose exact, partial or canvass")
    purpose, case = _justification(form, config)
    req = SearchRequest(mode=mode, purpose=purpose, case_number=case,
                        since=parse_time("since", form.get("since", "")),
                        until=parse_time("until", form.get("until", "")))
    if req.since and req.until and req.until <= req.since:
        raise ValidationError("until", "the window must end after it starts")
    if mode == "canvass":
        if req.since is None or req.until is None:
            raise ValidationError("since", "a canvass needs a start and an end time")
        _canvass_cameras(form, req)
        return req
    plate = normalise_plate(form.get("plate", ""))
    if not plate:
        raise ValidationError("plate", "enter a plate")
    if mode == "exact" and not EXACT.match(plate):
        raise ValidationError("plate", "a plate is 1-16 letters and digits (use partial "
                                       "search for ? and *)")
    if mode == "partial":
        read_repo.check_partial(plate)
    req.plate = plate
    return req


def run_search(req: SearchRequest, limit: int) -> list[dict[str, Any]]:
    """Run a validated search against the store."""
    if req.mode == "exact":
        assert req.plate is not None
        return read_repo.search_exact(engine(), req.plate, since=req.since, until=req.until,
                                      limit=limit)
    if req.mode == "partial":
        assert req.plate is not None
        return read_repo.search_partial(engine(), req.plate, since=req.since, until=req.until,
                                        limit=limit)
    if not req.camera_ids:
        return []  # no camera within the radius: nothing to read, still audited
    assert req.since is not None and req.until is not None
    return read_repo.search_canvass(engine(), req.camera_ids, req.since, req.until, limit=limit)


def _record(req: SearchRequest | None, form: MultiDict[str, str], *, outcome: audit.Outcome,
            data: dict[str, Any]) -> int:
    mode = req.mode if req else form.get("mode", "exact")
    plate = req.plate if req else (normalise_plate(form.get("plate", ""))[:16] or None)
    purpose = req.purpose if req else (form.get("purpose", "").strip()[:300] or None)
    case = req.case_number if req else (form.get("case_number", "").strip()[:64] or None)
    return audit.record(engine(), audit.AuditEvent(
        actor=str(g.user["username"]), action=f"search.{mode if mode in MODES else 'exact'}",
        outcome=outcome, plate=plate, purpose=purpose, case_number=case,
        client_addr=client_addr(), data=data))


def _page(cameras: list[dict[str, Any]] | None = None, **context: Any) -> str:
    config = settings()
    return render_template("search/index.html", purposes=config.search.purposes,
                           case_required=config.search.case_number_required,
                           cameras=cameras if cameras is not None
                           else site_repo.camera_choices(engine()), **context)


def with_links(rows: list[dict[str, Any]], search_id: int) -> list[dict[str, Any]]:
    """Give each result row its detail and thumbnail URLs (``links``).

    The URLs are built once per page with a slot for the uuid: url_for three times
    for each of 500 rows was half the time of rendering the page.
    """
    patterns = {"detail": url_for("reads.detail", read_uuid=READ_SLOT)}
    for kind in ("crop", "overview"):
        patterns[kind] = url_for("reads.thumb", read_uuid=READ_SLOT, kind=kind,
                                 search=search_id)
    for row in rows:
        read_uuid = quote(str(row["uuid"]), safe="")
        row["links"] = {name: pattern.replace(READ_SLOT, read_uuid)
                        for name, pattern in patterns.items()}
    return rows


@bp.get("/search")
@permission("search")
def index() -> str:
    """The search form."""
    return _page(form=MultiDict({"mode": request.args.get("mode", "exact")}))


@bp.post("/search")
@permission("search")
def search() -> ResponseReturnValue:
    """Validate, audit and run a search; show the results."""
    form = request.form
    try:
        req = parse_search(form, settings())
    except ValidationError as exc:
        _record(None, form, outcome="denied", data={"reason": str(exc), "field": exc.field})
        return _page(form=form, error=exc), 400
    rows = run_search(req, settings().search.max_results)
    event_id = _record(req, form, outcome="allowed", data={
        "mode": req.mode, "since": req.since, "until": req.until, "cameras": req.camera_ids,
        "place": req.place, "results": len(rows), "read_ids": [int(r["id"]) for r in rows]})
    cameras = site_repo.camera_choices(engine())
    return _page(cameras, form=form, req=req, search_id=event_id,
                 results=with_links(read_repo.describe_reads(engine(), rows,
                                                            cameras_known=cameras), event_id),
                 limit=settings().search.max_results)
