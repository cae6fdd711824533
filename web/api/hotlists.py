"""Hotlists (462.3, 462.7, 462.7.1(2)(3)): the lists, a list's versions, a file's import,
one entry added or expired.

Governance is the web upload's (``controller.alerts.hotlists``): a list that is not
an official feed is entered by hand, needs a case number, a reason and an expiry,
and raises no hit until an administrator other than its submitter approves it in
the UI. A client can submit (``hotlists.manage``) but never approve: no client
holds ``hotlists.approve`` (a client is never an administrator, 462.3.1). Nothing
here shows entries, so no purpose headers: the lists and versions name no plate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_openapi3.models.file import FileStorage
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.alerts import hotlist_entries, hotlists
from controller.errors import ValidationError
from web.api import bp
from web.api.auth import api_caller
from web.api.problems import FieldError, problem
from web.security import engine, permission, settings

TAG = Tag(name="hotlists", description="Hotlists, their versions, imports and entries")
REJECTED_SHOWN = 50


class Hotlist(BaseModel):
    """A list: its version in force and size."""

    name: str
    official: bool = Field(description="an official feed named in the settings")
    source: str | None
    active_version: int = Field(description="0: no version in force yet")
    entry_count: int
    updated_at: datetime
    updated_by: str


class HotlistList(BaseModel):
    """Every list, by name."""

    items: list[Hotlist]


class Version(BaseModel):
    """A kept version of a list: who entered it, on which case, who decided it."""

    id: int
    list_name: str
    version: int
    official: bool
    status: str = Field(description="pending (waits for an administrator), approved, rejected")
    entry_count: int
    digest: str | None
    submitted_by: str
    submitted_at: datetime
    case_number: str | None
    reason: str | None
    expires_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    active_from: datetime | None
    active_until: datetime | None


class VersionList(BaseModel):
    """A list's versions, newest first."""

    items: list[Version]


class ListPath(BaseModel):
    """A list by its name."""

    list_name: str = Field(min_length=1, max_length=hotlists.LIST_NAME_LIMIT)


class EntryPath(ListPath):
    """An entry of a list, by its plate."""

    plate: str = Field(min_length=1, max_length=16)


class ImportForm(BaseModel):
    """A hotlist file and, for a list entered by hand, its case number, reason and expiry."""

    file: FileStorage
    case_number: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=300)
    expires_at: str = Field(default="", max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")


class RejectedLine(BaseModel):
    """A line of the file that was not imported, and why."""

    line: int
    reason: str


class ImportResult(BaseModel):
    """What the import stored: the new version and its state, and the lines left out."""

    list_name: str
    imported: int
    version: int
    version_id: int
    official: bool
    status: str = Field(description="pending: raises no hit until an administrator approves")
    digest: str | None
    rejected: list[RejectedLine]


class EntryBody(BaseModel):
    """One entry: a full plate (with a 462.3 category) or a partial one (``?``, ``*``)."""

    plate: str = Field(min_length=1, max_length=16)
    category: str = Field(default="", max_length=32,
                          description="stolen_vehicle, wanted_warrant...; partial: ignored")
    reason: str = Field(max_length=300)
    case_number: str = Field(max_length=64)
    expires_at: str = Field(max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")
    state: str = Field(default="", max_length=2)


class ExpiryBody(BaseModel):
    """Why the entry comes off the list."""

    reason: str = Field(max_length=300)


def _version(row: Any) -> dict[str, object]:
    return Version.model_validate({n: row.get(n) for n in Version.model_fields}
                                  ).model_dump(mode="json")


@bp.get("/hotlists", tags=[TAG], responses={200: HotlistList}, operation_id="listHotlists")
@permission("hotlists.view")
def list_hotlists() -> dict[str, object]:
    """Every list with its version in force and size (no entries)."""
    official = settings().hotlists.official_names()
    rows = hotlists.overview(engine(), api_caller())
    return HotlistList(items=[Hotlist.model_validate({**r, "official": r["name"] in official})
                             for r in rows]).model_dump(mode="json")


@bp.get("/hotlists/<list_name>/versions", tags=[TAG], responses={200: VersionList},
        operation_id="listHotlistVersions")
@permission("hotlists.view")
def list_versions(path: ListPath) -> dict[str, object]:
    """A list's kept versions, newest first: submitter, case, decision, time in force."""
    rows = hotlists.list_versions(engine(), api_caller(), path.list_name)
    return {"items": [_version(r) for r in rows]}


@bp.post("/hotlists/<list_name>/imports", tags=[TAG], responses={201: ImportResult},
         operation_id="importHotlist")
@permission("hotlists.manage")
def import_file(path: ListPath, form: ImportForm) -> Any:
    """Import a file as a new version (multipart): in force at once for an official feed,
    else pending an administrator's approval; a refused file keeps the list as it was."""
    report = hotlists.upload_list(engine(), settings().hotlists, api_caller(), path.list_name,
                                  form.file.read(), case_number=form.case_number,
                                  reason=form.reason, expires_at=form.expires_at)
    lines = [RejectedLine(line=n, reason=r) for n, r in report.rejected]
    if report.refused or report.version is None or report.version_id is None:
        return problem(400, "Bad Request", f"file refused: {len(lines)} bad line(s); the "
                       "list in force is kept", field="file", kind="invalid-field",
                       errors=[FieldError(field=f"file:{x.line}", detail=x.reason)
                               for x in lines[:REJECTED_SHOWN]])
    return ImportResult(list_name=report.list_name, imported=report.imported,
                        version=report.version, version_id=report.version_id,
                        official=report.official, status=str(report.status),
                        digest=report.digest, rejected=lines).model_dump(mode="json"), 201


@bp.post("/hotlists/<list_name>/entries", tags=[TAG], responses={201: Version},
         operation_id="addHotlistEntry")
@permission("hotlists.manage")
def add_entry(path: ListPath, body: EntryBody) -> tuple[dict[str, object], int]:
    """Put one plate on a list entered by hand: a new version, pending approval."""
    version = hotlist_entries.add_entry(
        engine(), settings().hotlists, api_caller(), path.list_name, hotlist_entries.EntryForm(
            plate=body.plate, category=body.category, reason=body.reason,
            case_number=body.case_number, expires_at=body.expires_at, state=body.state))
    return _version(version), 201


@bp.post("/hotlists/<list_name>/entries/<plate>/expiry", tags=[TAG],
         responses={201: Version}, operation_id="expireHotlistEntry")
@permission("hotlists.manage")
def expire_entry(path: EntryPath, body: ExpiryBody) -> tuple[dict[str, object], int]:
    """Take a plate off a list entered by hand: a new version without it, in force at once
    (it only narrows the approved version)."""
    if not body.reason.strip():
        raise ValidationError("reason", "say why the entry comes off the list")
    version = hotlist_entries.expire_entry(engine(), settings().hotlists, api_caller(),
                                         path.list_name, plate=path.plate, reason=body.reason)
    return _version(version), 201
