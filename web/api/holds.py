"""Evidence holds and their packages (462.8, 462.10): ``holds.manage``.

A client places reads under a hold for a case, lists the holds it placed, and
releases one (only the one who placed it, or an administrator — never a client —
may: ``controller.compliance.holds.release``). The evidence package copies the
reads' plates and images, so building it takes the purpose headers; it is
downloaded as a zip by its owner only (the client that built it), the manifest
checked first, and every download or refusal is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Response, send_file, url_for
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.accounts import purpose
from controller.compliance import holds, packages
from web.api import bp
from web.api.auth import api_caller
from web.api.models import PurposeHeaders
from web.security import engine, permission, settings

TAG = Tag(name="holds", description="Evidence holds and evidence packages")
UUID = r"^[0-9a-fA-F-]{36}$"
ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
       "description": "the package as a zip (its folder and MANIFEST.sha256)"}


class HoldBody(BaseModel):
    """A new hold: the case, why, and the reads it keeps."""

    case_number: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    read_uuids: list[Annotated[str, Field(pattern=UUID)]] = Field(min_length=1,
                                                                  max_length=1000)


class Hold(BaseModel):
    """A hold: its case, who placed it, and whether it was released."""

    id: int
    case_number: str
    reason: str
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None
    read_count: int


class HoldList(BaseModel):
    """The holds the client placed, newest first."""

    items: list[Hold]


class HoldPath(BaseModel):
    """A hold by its number."""

    hold_id: int = Field(ge=1, le=2**31 - 1)


class PackagePath(BaseModel):
    """An evidence package by its number."""

    package_id: int = Field(ge=1, le=2**31 - 1)


class Package(BaseModel):
    """An evidence package built for a hold, and where to download it."""

    id: int
    name: str
    hold_id: int | None
    case_number: str | None
    manifest_sha256: str
    read_count: int
    created_at: datetime
    download: str = Field(description="URL of the zip (its owner only)")


def _hold(row: Any) -> dict[str, object]:
    return Hold.model_validate({n: row.get(n) for n in Hold.model_fields}).model_dump(mode="json")


@bp.post("/holds", tags=[TAG], responses={201: Hold}, operation_id="createHold")
@permission("holds.manage")
def create_hold(body: HoldBody) -> tuple[dict[str, object], int]:
    """Place reads under a new hold for a case (audited); they are kept past retention."""
    caller = api_caller()
    hold_id = holds.place_hold(engine(), caller, case_number=body.case_number,
                               reason=body.reason, read_uuids=body.read_uuids)
    return _hold(holds.get_hold(engine(), hold_id)), 201


@bp.get("/holds", tags=[TAG], responses={200: HoldList}, operation_id="listHolds")
@permission("holds.manage")
def list_holds() -> dict[str, object]:
    """The holds this client placed, newest first."""
    return {"items": [_hold(h) for h in holds.own_holds(engine(), api_caller())]}


@bp.post("/holds/<int:hold_id>/release", tags=[TAG], responses={200: Hold},
         operation_id="releaseHold")
@permission("holds.manage")
def release_hold(path: HoldPath) -> dict[str, object]:
    """Release a hold the client placed (its reads return to the retention schedule)."""
    holds.release(engine(), api_caller(), path.hold_id)
    return _hold(holds.get_hold(engine(), path.hold_id))


@bp.post("/holds/<int:hold_id>/packages", tags=[TAG], responses={201: Package},
         operation_id="buildEvidencePackage")
@permission("holds.manage")
def build_package(path: HoldPath, header: PurposeHeaders) -> tuple[dict[str, object], int]:
    """Build the hold's evidence package under the purpose (audited); the client owns it."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    folder = holds.export_hold(engine(), settings(), caller, path.hold_id)
    built = next(p for p in packages.my_packages(engine(), caller, "evidence")
                 if p["name"] == folder.name)
    return Package.model_validate({
        **built, "download": url_for(f"{bp.name}.download_package", package_id=built["id"])
    }).model_dump(mode="json"), 201


@bp.get("/packages/evidence/<int:package_id>", tags=[TAG], responses={200: ZIP},
        operation_id="downloadEvidencePackage")
@permission("holds.manage")
def download_package(path: PackagePath) -> Response:
    """The evidence package as a zip, to its owner only (manifest checked; audited)."""
    return send_zip(packages.download(engine(), api_caller(), "evidence", path.package_id))


def send_zip(package: packages.Download) -> Response:
    """A package's zip as an attachment (never cached)."""
    return send_file(package.file, mimetype="application/zip", as_attachment=True,
                     download_name=package.filename, max_age=0)
