"""Hits (462.7): the list with filters, one hit, and dispatch's CLETS verification outcome.

Listing and viewing hits show plate data: they take the purpose headers. Recording
an outcome shows none and needs only ``hits.verify`` (dispatch, the administrator).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, ConfigDict, Field

from controller.accounts import purpose
from controller.alerts import dispatch
from controller.alerts import hits as use
from web.api import bp
from web.api.auth import api_caller
from web.api.models import PageQuery, PurposeHeaders, after, keyset_page
from web.security import engine, permission, settings

TAG = Tag(name="hits", description="Hits against hotlists and their CLETS verification")
UUID = r"^[0-9a-fA-F-]{36}$"
CURSOR = "hits"


class HitQuery(PageQuery):
    """Filters of the hit list (the same as the UI's)."""

    verification: Literal["", "pending", "confirmed", "not_confirmed", "not_practicable"] = ""
    plate: str = Field(default="", max_length=32)
    since: str = Field(default="", max_length=10, description="YYYY-MM-DD (UTC)")
    until: str = Field(default="", max_length=10, description="YYYY-MM-DD (UTC)")


class Entry(BaseModel):
    """The hotlist entry as the hit matched it."""

    model_config = ConfigDict(extra="allow")

    list: str | None = None
    plate: str | None = None
    match: str | None = None
    vote_margin: float | None = None


class Hit(BaseModel):
    """A hit: its read, the entry it matched, and its verification (UNVERIFIED until then)."""

    uuid: str
    notice: str = Field(description="verify through CLETS before enforcement action")
    created_at: datetime
    verification: str
    verified_by: str | None
    verified_at: datetime | None
    verification_note: str | None
    read_uuid: str
    plate: str
    raw_text: str
    confidence: float
    plate_state: str | None
    seen_at: datetime
    direction: str | None
    latitude: float | None
    longitude: float | None
    camera_id: int
    camera: str
    site: str
    site_name: str
    entry: Entry


class HitPage(BaseModel):
    """A page of hits, newest first."""

    items: list[Hit]
    next_cursor: str | None


class HitPath(BaseModel):
    """A hit by its uuid."""

    hit_uuid: str = Field(pattern=UUID)


class Verification(BaseModel):
    """Dispatch's CLETS outcome for a hit (462.7(7))."""

    outcome: Literal["confirmed", "not_confirmed", "not_practicable"]
    note: str = Field(default="", max_length=500)


class Verified(BaseModel):
    """The outcome as recorded."""

    hit_uuid: str
    outcome: str
    label: str


def _hit(row: Any) -> Hit:
    fields = {name: row.get(name) for name in Hit.model_fields if name not in ("notice",)}
    return Hit(**fields, notice=dispatch.VERIFICATION_NOTICE)


@bp.get("/hits", tags=[TAG], responses={200: HitPage}, operation_id="listHits")
@permission("hits.view")
def list_hits(query: HitQuery, header: PurposeHeaders) -> dict[str, object]:
    """Hits matching the filters, newest first; audited under the purpose."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    rows = use.history(engine(), caller, use.HitFilters(
        verification=query.verification, plate=query.plate, since=query.since,
        until=query.until), before=after(query, CURSOR), limit=query.limit + 1)
    page, cursor = keyset_page(rows, query, CURSOR, lambda r: (r["created_at"], r["hit_id"]))
    return HitPage(items=[_hit(r) for r in page], next_cursor=cursor).model_dump(mode="json")


@bp.get("/hits/<hit_uuid>", tags=[TAG], responses={200: Hit},
        operation_id="getHit")
@permission("hits.view")
def get_hit(path: HitPath, header: PurposeHeaders) -> dict[str, object]:
    """One hit with its read and the entry it matched; audited under the purpose."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    return _hit(use.view_hit(engine(), caller, path.hit_uuid)).model_dump(mode="json")


@bp.post("/hits/<hit_uuid>/verification", tags=[TAG], operation_id="verifyHit",
         responses={200: Verified})
@permission("hits.verify")
def verify_hit(path: HitPath, body: Verification) -> dict[str, object]:
    """Record the CLETS verification outcome (once; a later one is a re-verification)."""
    label = use.verify_hit(engine(), api_caller(), path.hit_uuid, body.outcome, body.note)
    return Verified(hit_uuid=path.hit_uuid, outcome=body.outcome,
                    label=label).model_dump(mode="json")
