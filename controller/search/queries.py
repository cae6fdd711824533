"""Searches (462.7): exact, partial and canvass, each under a stated purpose and case number.

A search runs only under a purpose from the configured list, a case number (unless
the settings waive it) and the attestation of official law-enforcement use
(462.7.1(2)(3)). These are stated once per piece of work: a search that leaves them
blank, or repeats those of the searcher's open purpose window
(``controller.accounts.purpose``), runs under that window; one that states new ones
opens a new window (audited) once the whole search validates. Every search, refused
or run, is written to the audit log with the plate or pattern, purpose, case number
and result count (462.5); the entry's number then authorises the result thumbnails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from controller.accounts import Caller, authorize, purpose, record
from controller.accounts.purpose import Window
from controller.errors import InvalidFields, ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store.reads import Keyset
from controller.store.records import CameraChoice, DescribedRead, ReadRow
from controller.validation import parse_time, record_id
from inference.plates import normalise

PERMISSION = "search"
MODES = ("exact", "partial", "canvass")
EXACT = re.compile(r"^[A-Z0-9]{1,16}$")
CASE_NUMBER = purpose.CASE_NUMBER
MAX_RADIUS_M = 50_000.0
T = TypeVar("T")


@dataclass(frozen=True)
class SearchForm:
    """A search as the searcher typed it: every field a string, nothing checked yet."""

    mode: str = "exact"
    purpose: str = ""
    case_number: str = ""
    attest: str = ""
    plate: str = ""
    since: str = ""
    until: str = ""
    camera_ids: Sequence[str] = ()
    latitude: str = ""
    longitude: str = ""
    radius_m: str = ""


@dataclass
class SearchRequest:
    """A validated search; ``window`` is the open purpose window it runs under (None: the
    search states a new purpose, and a window is opened for it before it runs)."""

    mode: str
    purpose: str
    case_number: str | None
    window: Window | None = None
    plate: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    camera_ids: list[int] = field(default_factory=list)
    place: dict[str, float] | None = None


@dataclass(frozen=True)
class SearchResult:
    """What a search returned: its audit entry's number, the request and the reads."""

    search_id: int
    request: SearchRequest
    reads: list[DescribedRead]
    cameras: list[CameraChoice]
    # More reads match past the last one returned (the next keyset page has some).
    more: bool = False


def _number(name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(name, "enter a number") from None
    if not low <= number <= high:
        raise ValidationError(name, f"must be between {low:g} and {high:g}")
    return number


def _justification(config: Settings, form: SearchForm,
                   window: Window | None) -> tuple[str, str | None, bool]:
    """Purpose and case number, and whether they are the open window's (no new statement)."""
    typed = (form.purpose.strip(), form.case_number.strip())
    if window is not None and typed in {("", ""), (window.purpose, window.case_number or "")}:
        return window.purpose, window.case_number, True
    stated, case = purpose.check(config, purpose.PurposeForm(*typed, attest=form.attest))
    return stated, case, False


def _canvass_cameras(engine: Engine, form: SearchForm, req: SearchRequest,
                     problems: list[ValidationError]) -> None:
    if form.camera_ids:
        req.camera_ids = sorted({record_id("camera_ids", c) for c in form.camera_ids})
        return
    if not form.latitude and not form.longitude:
        raise ValidationError("camera_ids", "choose cameras, or give a point and radius")
    point = {name: _checked(problems, _number, name, value, low, high)
             for name, value, low, high in (("latitude", form.latitude, -90, 90),
                                            ("longitude", form.longitude, -180, 180),
                                            ("radius_m", form.radius_m, 1, MAX_RADIUS_M))}
    if None in point.values():
        return
    req.place = {name: float(value) for name, value in point.items() if value is not None}
    req.camera_ids = site_repo.cameras_near(engine, req.place["latitude"],
                                            req.place["longitude"], req.place["radius_m"])


def _checked(problems: list[ValidationError], check: Callable[..., T],
                *args: Any) -> T | None:
    """``check(*args)``, or None with its complaints added to ``problems``: a form's
    fields are all checked, and every bad one told at once."""
    try:
        return check(*args)
    except InvalidFields as exc:
        problems.extend(exc.errors)
    except ValidationError as exc:
        problems.append(exc)
    return None


def _plate(form: SearchForm) -> str:
    plate = normalise(form.plate, typed=True)
    if not plate:
        raise ValidationError("plate", "enter a plate")
    if form.mode == "exact" and not EXACT.match(plate):
        raise ValidationError("plate", "a plate is 1-16 letters and digits (use partial "
                                       "search for ? and *)")
    if form.mode == "partial":
        read_repo.check_partial(plate)
    return plate


def validate(engine: Engine, config: Settings, form: SearchForm,
             window: Window | None = None) -> SearchRequest:
    """Check the search (under the caller's open ``window``, if any); raise InvalidFields
    naming every bad field."""
    if form.mode not in MODES:
        raise ValidationError("mode", "choose exact, partial or canvass")
    problems: list[ValidationError] = []
    justified = _checked(problems, _justification, config, form, window)
    stated, case, covered = justified or ("", None, False)
    req = SearchRequest(mode=form.mode, purpose=stated, case_number=case,
                        window=window if covered else None,
                        since=_checked(problems, parse_time, "since", form.since),
                        until=_checked(problems, parse_time, "until", form.until))
    if req.since and req.until and req.until <= req.since:
        problems.append(ValidationError("until", "the window must end after it starts"))
    if form.mode == "canvass":
        if not (form.since.strip() and form.until.strip()):
            problems.append(ValidationError("since", "a canvass needs a start and an end time"))
        _checked(problems, _canvass_cameras, engine, form, req, problems)
    else:
        req.plate = _checked(problems, _plate, form)
    if problems:
        raise InvalidFields(problems)
    return req


def _run(engine: Engine, req: SearchRequest, limit: int,
         before: Keyset | None = None) -> list[ReadRow]:
    if req.mode == "exact":
        assert req.plate is not None
        return read_repo.search_exact(engine, req.plate, since=req.since, until=req.until,
                                      limit=limit, before=before)
    if req.mode == "partial":
        assert req.plate is not None
        return read_repo.search_partial(engine, req.plate, since=req.since, until=req.until,
                                        limit=limit, before=before)
    if not req.camera_ids:
        return []  # no camera within the radius: nothing to read, still audited
    assert req.since is not None and req.until is not None
    return read_repo.search_canvass(engine, req.camera_ids, req.since, req.until, limit=limit,
                                    before=before)


def _action(form: SearchForm) -> str:
    return f"search.{form.mode if form.mode in MODES else 'exact'}"


def _typed_plate(form: SearchForm) -> str | None:
    return normalise(form.plate, typed=True)[:16] or None


def search_reads(engine: Engine, config: Settings, caller: Caller, form: SearchForm, *,
                 before: Keyset | None = None, limit: int | None = None) -> SearchResult:
    """Validate, audit and run a search (permission ``search``).

    A refused search (role, training or a bad field) is audited as denied with
    what was typed, then raised; a search that runs is audited with its plate or
    pattern, purpose, case number, window, cameras and the ids of the reads returned.
    A search stating a purpose other than the open window's opens a new window first.
    ``before`` and ``limit`` make it one keyset page (the API's cursor, the web's
    result pages): only reads older, in newest-first order, than the previous page's
    last (its seen_at and id), at most ``limit`` (never more than the configured
    ``search.max_results``). One more read is looked for and not returned: ``more``
    says whether a next page has reads. The audit entry lists the reads returned.
    """
    authorize(engine, caller, PERMISSION, _action(form), plate=_typed_plate(form))
    try:
        req = validate(engine, config, form, purpose.current(engine, caller))
    except ValidationError as exc:
        record(engine, caller, _action(form), outcome="denied", plate=_typed_plate(form),
               purpose=form.purpose.strip()[:300] or None,
               case_number=form.case_number.strip()[:64] or None,
               data={"reason": str(exc), "field": exc.field})
        raise
    window = req.window or purpose.state(engine, config, caller, purpose.PurposeForm(
        req.purpose, req.case_number or "", attest=form.attest))
    req.window = window
    most = config.search.max_results if limit is None else min(limit,
                                                                 config.search.max_results)
    rows = _run(engine, req, most + 1, before)
    more = len(rows) > most
    rows = rows[:most]
    search_id = purpose.record_view(
        engine, caller, window, _action(form), plate=req.plate, results=len(rows), data={
            "mode": req.mode, "since": req.since, "until": req.until,
            "cameras": req.camera_ids, "place": req.place,
            "read_ids": [int(r["id"]) for r in rows]})
    cameras = site_repo.camera_choices(engine)
    return SearchResult(search_id, req, read_repo.describe_reads(engine, rows,
                                                                cameras_known=cameras),
                        cameras, more)


def camera_choices(engine: Engine) -> list[CameraChoice]:
    """Every camera with its site, for the canvass picker (no ALPR data: not audited)."""
    return site_repo.camera_choices(engine)
