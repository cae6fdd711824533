"""Releasing ALPR data to other agencies (policy 462.12, Civil Code 1798.90.55).

A written request is entered with the agency, its ORI and state, the requester,
the intended purpose, the case number and the scope. Requests from bodies that
are neither law enforcement nor prosecution are recorded and routed to the
records-release process: the system releases nothing for them. Out-of-state and
federal agencies are refused unless the settings allow them (California AG
bulletin 2023-DLE-06). The administrator approves or denies the rest with a
reason; an approved request stays on file and is fulfilled as an export package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize
from controller.compliance import exports, holds, packages
from controller.errors import NotFound, PolicyViolation, ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import reads as read_repo
from controller.store import sharing as sharing_repo
from controller.store import sites as site_repo
from controller.store.records import SharingRequest
from controller.validation import parse_time, record_id, required_day, required_text
from inference.plates import normalise

AGENCY_KINDS = ("law_enforcement", "prosecution", "federal", "other")
ORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
PLATE = re.compile(r"^[A-Z0-9]{1,16}$")
STATE = re.compile(r"^[A-Z]{2}$")
MAX_RELEASE = 5000
AG_BULLETIN = "California AG bulletin 2023-DLE-06 (Civil Code 1798.90.55(b))"


@dataclass(frozen=True)
class Scope:
    """What a request asks for: plates (empty: any), a time window, cameras (empty: any)."""

    plates: tuple[str, ...]
    since: datetime
    until: datetime
    camera_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        """The scope as stored (JSON)."""
        return {"plates": list(self.plates), "since": self.since.isoformat(),
                "until": self.until.isoformat(), "cameras": list(self.camera_ids)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scope:
        """The scope read back from storage."""
        return cls(tuple(data["plates"]), datetime.fromisoformat(data["since"]),
                   datetime.fromisoformat(data["until"]), tuple(data["cameras"]))


def make_scope(plates: Sequence[str], since: datetime | None, until: datetime | None,
               camera_ids: Sequence[int]) -> Scope:
    """Validate a request's scope; a plate list or a camera list narrows the window."""
    clean = tuple(sorted({normalise(p, typed=True) for p in plates if p.strip()}))
    for plate in clean:
        if not PLATE.match(plate):
            raise ValidationError("plates", f"{plate!r} is not a plate (A-Z, 0-9)")
    if since is None or until is None:
        raise ValidationError("since", "the scope needs a start and an end time")
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationError("since", "give times in UTC")
    if until <= since:
        raise ValidationError("until", "the window must end after it starts")
    if not clean and not camera_ids:
        raise ValidationError("plates", "name plates or cameras: a request for everything "
                                        "is not a scope")
    return Scope(clean, since, until, tuple(sorted(set(camera_ids))))


def _initial_status(settings: Settings, kind: str, state: str) -> tuple[str, str | None]:
    rules = settings.sharing
    if kind == "other":
        return "records_release", ("not a law-enforcement or prosecutorial agency: routed to "
                                   "the Records Release process (462.12); no ALPR data is "
                                   "released by this system")
    if kind == "federal" and not rules.allow_federal:
        return "refused", f"federal agency refused by default ({AG_BULLETIN})"
    if state != rules.home_state.upper() and not rules.allow_out_of_state:
        return "refused", f"out-of-state agency ({state}) refused by default ({AG_BULLETIN})"
    return "pending", None


def enter_request(engine: Engine, settings: Settings, *, agency: str, ori: str, state: str,
                  kind: str, requester_name: str, purpose: str, case_number: str,
                  scope: Scope, received_on: date, actor: str,
                  client_addr: str | None = None) -> SharingRequest:
    """Record a written request; refuse or route it at once where the rules say so."""
    values = {
        "agency": required_text("agency", agency, 200),
        "ori": ori.strip().upper(),
        "agency_state": state.strip().upper(),
        "agency_kind": kind,
        "requester_name": required_text("requester_name", requester_name, 200),
        "purpose": required_text("purpose", purpose, 500),
        "case_number": required_text("case_number", case_number, 64),
    }
    if not ORI.match(values["ori"]):
        raise ValidationError("ori", "an ORI is 9 characters: the state's 2 letters, then 7 "
                                     "letters or digits")
    if not STATE.match(values["agency_state"]):
        raise ValidationError("state", "the agency's two-letter state")
    if values["ori"][:2] != values["agency_state"]:
        # An ORI begins with its agency's state (462.12: the ORI is checked against it).
        raise ValidationError("ori", f"ORI {values['ori']} is an agency of "
                                     f"{values['ori'][:2]}, not of {values['agency_state']}, "
                                     "the requesting agency's state: check the ORI and state")
    if kind not in AGENCY_KINDS:
        raise ValidationError("kind", f"one of {', '.join(AGENCY_KINDS)}")
    if received_on > datetime.now(UTC).date():
        raise ValidationError("received_on", "the date received is in the future")
    status, reason = _initial_status(settings, kind, values["agency_state"])
    now = datetime.now(UTC)
    request_id = sharing_repo.insert_request(engine, {
        **values, "scope": scope.as_dict(), "received_on": received_on, "entered_by": actor,
        "entered_at": now, "status": status,
        **({"decided_by": "system:policy", "decided_at": now, "decision_reason": reason}
           if reason else {})})
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="sharing.request", client_addr=client_addr,
        outcome="denied" if status == "refused" else "allowed",
        case_number=values["case_number"], purpose=values["purpose"],
        data={"request_id": request_id, "agency": values["agency"], "ori": values["ori"],
              "state": values["agency_state"], "kind": kind, "status": status,
              "reason": reason, "scope": scope.as_dict()}))
    return sharing_repo.get_request(engine, request_id)


def get_request(engine: Engine, request_id: int) -> SharingRequest:
    """One request; a missing one is a ValidationError naming it."""
    try:
        return sharing_repo.get_request(engine, request_id)
    except NotFound:
        raise ValidationError("request", f"no sharing request {request_id}") from None


def decide(engine: Engine, request_id: int, *, approve: bool, reason: str, actor: str,
           client_addr: str | None = None) -> SharingRequest:
    """The administrator approves or denies a pending request, with a reason; audited."""
    reason = required_text("reason", reason, 500)
    request = get_request(engine, request_id)
    status = "approved" if approve else "denied"
    if request["status"] != "pending" or not sharing_repo.update_request(
            engine, request_id, expect_status="pending", status=status, decided_by=actor,
            decided_at=datetime.now(UTC), decision_reason=reason):
        raise ValidationError("request", f"request {request_id} is {request['status']}, "
                                         "not pending")
    audit.record(engine, audit.AuditEvent(
        actor=actor, action=f"sharing.{'approve' if approve else 'deny'}",
        client_addr=client_addr, case_number=request["case_number"],
        data={"request_id": request_id, "agency": request["agency"], "reason": reason}))
    return get_request(engine, request_id)


def fulfil(engine: Engine, settings: Settings, request_id: int, out_dir: Path, *,
           actor: str, client_addr: str | None = None) -> Path:
    """Build the export package of an approved request; anything else is refused (audited)."""
    request = get_request(engine, request_id)
    if request["status"] != "approved":
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="sharing.fulfil", outcome="denied", client_addr=client_addr,
            case_number=request["case_number"],
            data={"request_id": request_id, "status": request["status"]}))
        why = ("it goes to the Records Release process" if request["status"] ==
               "records_release" else f"it is {request['status']}")
        raise PolicyViolation(f"policy 462.12: request {request_id} is not released: {why}")
    scope = Scope.from_dict(request["scope"])
    rows = read_repo.reads_in_scope(engine, plates=scope.plates, since=scope.since,
                               until=scope.until, camera_ids=scope.camera_ids,
                               limit=MAX_RELEASE + 1)
    if len(rows) > MAX_RELEASE:
        raise ValidationError("scope", f"more than {MAX_RELEASE} reads; narrow the scope")
    name = f"sharing-{request_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    folder = exports.new_package(out_dir, name)
    written = holds.write_reads_package(engine, settings, folder, [int(r["id"]) for r in rows])
    (folder / "request.json").write_text(json.dumps(
        {**request, "released_by": actor, "legal_notice": "Law enforcement sensitive. "
         "Official use only (DPPA, 18 U.S.C. 2721; Civil Code 1798.90.55)."},
        indent=1, default=exports.json_default), encoding="utf-8")
    final, manifest_hash = exports.seal_package(folder, name)
    # Recorded with its owner: downloaded by them, purged with its reads (462.10, 462.12).
    package_id = packages.register(
        engine, kind="sharing", folder=final, owner=actor, manifest_sha256=manifest_hash,
        read_uuids=[str(r["uuid"]) for r in written["reads"]], sharing_request_id=request_id,
        case_number=request["case_number"])
    sharing_repo.update_request(engine, request_id, expect_status="approved", status="fulfilled",
                        fulfilled_at=datetime.now(UTC), export_path=str(final))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="sharing.fulfil", client_addr=client_addr,
        case_number=request["case_number"], purpose=request["purpose"],
        data={"request_id": request_id, "package_id": package_id, "agency": request["agency"],
              "ori": request["ori"], "reads": len(rows), "hits": written["hits"],
              "images": written["images"], "path": str(final), "manifest_sha256": manifest_hash}))
    return final


def list_requests(engine: Engine) -> list[SharingRequest]:
    """Every request on file, newest first."""
    return sharing_repo.list_requests(engine)


# --- use cases: what the web, the API and the CLI offer, role and training checked ---

PERMISSION = "compliance.manage"
# Filing a request (462.12(a)) is open wider than deciding it (462.12(b)): see roles.py.
FILE = "sharing.request"


@dataclass(frozen=True)
class RequestForm:
    """Another agency's written request as typed; the scope's lists as given."""

    agency: str
    ori: str
    state: str
    kind: str
    requester_name: str
    purpose: str
    case_number: str
    plates: str
    since: str
    until: str
    cameras: Sequence[str]
    received_on: str


def requests_on_file(engine: Engine, caller: Caller) -> dict[str, Any]:
    """Every request on file, newest first, and the cameras a scope may name."""
    authorize(engine, caller, PERMISSION, "sharing.list")
    return {"requests": list_requests(engine), "cameras": site_repo.camera_choices(engine)}


def filed_by(engine: Engine, caller: Caller) -> list[SharingRequest]:
    """The requests the caller filed, newest first, with their status (``sharing.request``)."""
    authorize(engine, caller, FILE, "sharing.list")
    return [r for r in list_requests(engine) if r["entered_by"] == caller.username]


def _scope(form: RequestForm) -> Scope:
    camera_ids = [record_id("cameras", value) for value in form.cameras]
    return make_scope(form.plates.replace(",", " ").split(), parse_time("since", form.since),
                      parse_time("until", form.until), camera_ids)


def submit_request(engine: Engine, settings: Settings, caller: Caller,
                   form: RequestForm) -> SharingRequest:
    """Enter a written request (``sharing.request``); refused or routed at once where the
    rules say so, else pending the administrator's review (audited). Filing approves nothing."""
    authorize(engine, caller, FILE, "sharing.request", data={"agency": form.agency})
    scope = _scope(form)
    return enter_request(engine, settings, agency=form.agency, ori=form.ori, state=form.state,
                         kind=form.kind, requester_name=form.requester_name,
                         purpose=form.purpose, case_number=form.case_number, scope=scope,
                         received_on=required_day("received_on", form.received_on),
                         **caller.who())


def decide_request(engine: Engine, caller: Caller, *, request_id: str, decision: str,
                   reason: str) -> SharingRequest:
    """Approve or deny a pending request, with a reason (audited)."""
    authorize(engine, caller, PERMISSION, "sharing.decide", data={"request_id": request_id})
    if decision not in ("approve", "deny"):
        raise ValidationError("decision", "approve or deny")
    return decide(engine, record_id("request_id", request_id), approve=decision == "approve",
                  reason=reason, **caller.who())


def fulfil_request(engine: Engine, settings: Settings, caller: Caller, request_id: int) -> Path:
    """Build the export package of an approved request (audited); return its folder."""
    authorize(engine, caller, PERMISSION, "sharing.fulfil", data={"request_id": request_id})
    out = settings.data_dir / "exports" / "sharing"
    out.mkdir(parents=True, exist_ok=True)
    return fulfil(engine, settings, request_id, out, **caller.who())
