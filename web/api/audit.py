"""The access log (462.5, 462.6) for the quarterly audit: ``audit.read``.

The policy gives the log and its audits to the ALPR Administrator, a person
(462.3.1); a client is never one. So reading is given to a client-only role,
``auditor`` (``sightline client add NAME --role auditor``): it queries the log
(under the purpose headers, the log naming plates), verifies the chain, and
fetches a closed quarter's package, built first if the schedule has not. The
review, the sample's marks and the sign-off stay the administrator's, in the UI.
See ``controller.compliance.audit_read``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.accounts import purpose
from controller.compliance import audit_read
from controller.compliance.audit_log import AuditFilters
from web.api import bp
from web.api.auth import api_caller
from web.api.holds import ZIP, send_zip
from web.api.models import PageQuery, PurposeHeaders, after, keyset_page
from web.security import engine, permission, settings

TAG = Tag(name="audit", description="The access log: query, verify, quarterly packages")
CURSOR = "audit"


class EventQuery(PageQuery):
    """Filters of the log (the same as the UI's)."""

    actor: str = Field(default="", max_length=64, description="who: a user or client:NAME")
    action: str = Field(default="", max_length=64, description="e.g. search.exact")
    plate: str = Field(default="", max_length=32)
    since: str = Field(default="", max_length=10, description="YYYY-MM-DD (UTC)")
    until: str = Field(default="", max_length=10, description="YYYY-MM-DD (UTC)")


class Event(BaseModel):
    """One entry of the access log."""

    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    plate: str | None
    purpose: str | None
    case_number: str | None
    client_addr: str | None
    data: dict[str, Any] | None


class EventPage(BaseModel):
    """A page of the log, newest first."""

    items: list[Event]
    next_cursor: str | None


class Chain(BaseModel):
    """The chain's verification: whether every entry and anchor checks out."""

    ok: bool
    rows: int
    first_broken_id: int | None
    reason: str
    anchors: int
    first_bad_anchor: int | None
    legacy_rows: int


class QuarterPath(BaseModel):
    """A quarter, as 2026Q3."""

    quarter: str = Field(pattern=r"^20\d{2}[Qq][1-4]$")


def _event(row: Any) -> Event:
    return Event.model_validate({n: row.get(n) for n in Event.model_fields})


@bp.get("/audit/events", tags=[TAG], responses={200: EventPage}, operation_id="listAuditEvents")
@permission("audit.read")
def list_events(query: EventQuery, header: PurposeHeaders) -> dict[str, object]:
    """Entries of the log matching the filters, newest first; each page audited."""
    caller = api_caller()
    purpose.ensure(engine(), settings(), caller, header.form())
    boundary = after(query, CURSOR)
    rows = audit_read.read_log(engine(), caller, AuditFilters(
        actor=query.actor, action=query.action, plate=query.plate, since=query.since,
        until=query.until), before_id=boundary[1] if boundary else None, limit=query.limit + 1)
    page, cursor = keyset_page(rows, query, CURSOR, lambda r: (r["at"], int(r["id"])))
    return EventPage(items=[_event(r) for r in page], next_cursor=cursor).model_dump(mode="json")


@bp.get("/audit/verification", tags=[TAG], responses={200: Chain},
        operation_id="verifyAuditChain")
@permission("audit.read")
def verify_chain() -> dict[str, object]:
    """Verify the keyed hash chain against every anchor outside the database (audited)."""
    report = audit_read.verify_chain(engine(), api_caller(), settings())
    return Chain.model_validate(report.as_dict()).model_dump(mode="json")


@bp.get("/audit/packages/<quarter>", tags=[TAG], responses={200: ZIP},
        operation_id="getAuditPackage")
@permission("audit.read")
def get_package(path: QuarterPath) -> Any:
    """A closed quarter's audit package as a zip, built first if none was (audited)."""
    found, built = audit_read.quarter_package(engine(), settings(), api_caller(), path.quarter)
    response = send_zip(found)
    response.headers["Sightline-Package-Built"] = "yes" if built else "no"
    response.headers["Content-Location"] = url_for(f"{bp.name}.get_package",
                                                   quarter=path.quarter.upper())
    return response
