"""Sharing requests (462.12): intake only, through ``sharing.request``.

Policy 462.12(a) has another agency make a written request (agency, requester,
purpose); 462.12(b) has the ALPR Administrator review and approve it before it is
fulfilled. A client is never an administrator (462.3.1), so the API files a
request it received (the ORI checked against the agency's state; out-of-state,
federal and non-law-enforcement bodies refused or routed at once, as in the UI)
and reads the status of the requests it filed. Filing approves nothing: review,
approval and fulfilment stay in the UI and the CLI.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.compliance import sharing
from web.api import bp
from web.api.auth import api_caller
from web.security import engine, permission, settings

TAG = Tag(name="sharing", description="Other agencies' written requests for ALPR data: intake")


class RequestBody(BaseModel):
    """Another agency's written request, as received (462.12(a))."""

    agency: str = Field(max_length=200)
    ori: str = Field(max_length=16, description="9 characters, beginning with the state")
    state: str = Field(max_length=2, description="the agency's two-letter state")
    kind: Literal["law_enforcement", "prosecution", "federal", "other"]
    requester_name: str = Field(max_length=200)
    purpose: str = Field(max_length=500)
    case_number: str = Field(max_length=64)
    plates: list[str] = Field(default_factory=list, max_length=200)
    since: str = Field(max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")
    until: str = Field(max_length=32, description="YYYY-MM-DDTHH:MM (UTC)")
    camera_ids: list[int] = Field(default_factory=list, max_length=200)
    received_on: str = Field(max_length=10, description="YYYY-MM-DD: when it was received")


class Scope(BaseModel):
    """What the request asks for."""

    plates: list[str]
    since: str
    until: str
    cameras: list[int]


class SharingRequest(BaseModel):
    """A request on file and where it stands."""

    id: int
    agency: str
    ori: str
    agency_state: str
    agency_kind: str
    requester_name: str
    purpose: str
    case_number: str
    scope: Scope
    received_on: date
    entered_by: str
    entered_at: datetime
    status: str = Field(description="pending (the administrator reviews it), approved, "
                                    "denied, refused, records_release, fulfilled")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    fulfilled_at: datetime | None


class RequestList(BaseModel):
    """The requests this client filed, newest first."""

    items: list[SharingRequest]


def _request(row: Any) -> dict[str, object]:
    return SharingRequest.model_validate({n: row.get(n) for n in SharingRequest.model_fields}
                                         ).model_dump(mode="json")


@bp.post("/sharing-requests", tags=[TAG], responses={201: SharingRequest},
         operation_id="fileSharingRequest")
@permission("sharing.request")
def file_request(body: RequestBody) -> tuple[dict[str, object], int]:
    """File a written request (audited): pending review, or refused/routed by the rules."""
    row = sharing.submit_request(engine(), settings(), api_caller(), sharing.RequestForm(
        agency=body.agency, ori=body.ori, state=body.state, kind=body.kind,
        requester_name=body.requester_name, purpose=body.purpose,
        case_number=body.case_number, plates=" ".join(body.plates), since=body.since,
        until=body.until, cameras=[str(c) for c in body.camera_ids],
        received_on=body.received_on))
    return _request(row), 201


@bp.get("/sharing-requests", tags=[TAG], responses={200: RequestList},
        operation_id="listSharingRequests")
@permission("sharing.request")
def list_requests() -> dict[str, object]:
    """The requests this client filed, with their status and the decision's reason."""
    return {"items": [_request(r) for r in sharing.filed_by(engine(), api_caller())]}
