"""Reads (462.5, 462.7): exact, partial and canvass search; one read; its images.

Every operation shows plate data, so each takes the purpose headers
(``PurposeHeaders``): the search states them through ``search_reads`` exactly as
the UI's form does; a read and its images open (or reuse) the client's purpose
window through ``purpose.ensure`` first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Response, url_for
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.accounts import purpose
from controller.search import DescribedRead, queries, views
from web.api import bp
from web.api.auth import api_caller
from web.api.models import PageQuery, PurposeHeaders, after, next_cursor
from web.security import engine, permission, settings

TAG = Tag(name="reads", description="Plate reads: searches, one read, its images")
UUID = r"^[0-9a-fA-F-]{36}$"
CURSOR = "reads"


class SearchQuery(PageQuery):
    """A search, as the UI's form has it (the same checks, in the controller)."""

    mode: Literal["exact", "partial", "canvass"] = Field(default="exact")
    plate: str = Field(default="", max_length=32,
                       description="the plate (partial: ? one character, * any run)")
    since: str = Field(default="", max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")
    until: str = Field(default="", max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")
    camera_ids: list[str] = Field(default_factory=list, max_length=200,
                                  description="canvass: the cameras")
    latitude: str = Field(default="", max_length=32, description="canvass: the point")
    longitude: str = Field(default="", max_length=32, description="canvass: the point")
    radius_m: str = Field(default="", max_length=32, description="canvass: metres around it")


class Read(BaseModel):
    """One read: the plate as read (and as corrected by hand), where and when, its images."""

    uuid: str
    plate: str
    corrected_plate: str | None
    raw_text: str
    confidence: float
    char_confidences: list[float]
    plate_state: str | None
    camera_id: int
    camera_name: str
    site_code: str
    site_name: str
    seen_at: datetime
    direction: str | None
    box: list[int] | None
    latitude: float | None
    longitude: float | None
    images: dict[str, str] = Field(description="image kind -> URL of the image (JPEG)")


class SearchPage(BaseModel):
    """A page of a search's reads, with the search's audit entry and what it ran under."""

    search_id: int = Field(description="the search's entry in the access log")
    purpose: str
    case_number: str | None
    items: list[Read]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null: last")


class ReadPath(BaseModel):
    """A read by its uuid."""

    read_uuid: str = Field(pattern=UUID)


class ImagePath(ReadPath):
    """One of a read's images."""

    kind: Literal["crop", "overview"]


def _read(row: DescribedRead) -> Read:
    images = {kind: url_for(f"{bp.name}.get_read_image", read_uuid=row["uuid"], kind=kind)
              for kind in row["images"]}
    fields = {name: row.get(name) for name in Read.model_fields if name != "images"}
    return Read.model_validate({**fields, "images": images})


@bp.get("/reads", tags=[TAG], responses={200: SearchPage}, operation_id="searchReads")
@permission("search")
def search_reads(query: SearchQuery, header: PurposeHeaders) -> dict[str, object]:
    """Search reads (exact, partial or canvass) under the stated purpose; audited."""
    result = queries.search_reads(engine(), settings(), api_caller(), queries.SearchForm(
        mode=query.mode, purpose=header.purpose, case_number=header.case_number,
        attest=header.attest, plate=query.plate, since=query.since, until=query.until,
        camera_ids=query.camera_ids, latitude=query.latitude, longitude=query.longitude,
        radius_m=query.radius_m), before=after(query, CURSOR), limit=query.limit)
    cursor = next_cursor(result.reads, result.more, CURSOR,
                         lambda r: (r["seen_at"], int(r["id"])))
    return SearchPage(search_id=result.search_id, purpose=result.request.purpose,
                      case_number=result.request.case_number,
                      items=[_read(r) for r in result.reads],
                      next_cursor=cursor).model_dump(mode="json")


@bp.get("/reads/<read_uuid>", tags=[TAG], responses={200: Read},
        operation_id="getRead")
@permission("reads.view")
def get_read(path: ReadPath, header: PurposeHeaders) -> dict[str, object]:
    """One read with its camera, site and image links; audited under the purpose."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    return _read(views.view_read(engine(), caller, path.read_uuid)).model_dump(mode="json")


@bp.get("/reads/<read_uuid>/images/<kind>", tags=[TAG], operation_id="getReadImage",
        responses={200: {"content": {"image/jpeg": {"schema": {"type": "string",
                                                              "format": "binary"}}}}})
@permission("reads.view")
def get_read_image(path: ImagePath, header: PurposeHeaders) -> Response:
    """A read's full-size image (JPEG); audited under the purpose."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    found = views.read_image(engine(), settings().data_dir, caller, path.read_uuid, path.kind)
    return Response(found.read_bytes(), mimetype="image/jpeg")
