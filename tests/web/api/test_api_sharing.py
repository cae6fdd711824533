"""Sharing requests over the API (462.12): a client files another agency's written request
(``sharing.request``) and reads the status of those it filed; filing approves nothing, and
the administrator's review stays out of the client's reach (462.12(b), 462.3.1)."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import PROBLEM, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import Caller, clients
from controller.compliance import sharing
from controller.errors import AccessDenied
from controller.settings import Settings
from controller.store import audit as audit_repo

REQUEST = {"agency": "Brawley Police Department", "ori": "CA0130100", "state": "CA",
           "kind": "law_enforcement", "requester_name": "Det. R. Ortiz",
           "purpose": "Homicide investigation", "case_number": "BPD-26-1187",
           "plates": ["7abc123"], "since": "2026-11-01T00:00", "until": "2026-11-03T00:00",
           "received_on": "2026-11-04"}


def test_file_and_follow_a_request(client: FlaskClient, engine: Engine, auth: Auth,
                                   settings: Settings, token_for: TokenFor,
                                   world: dict[str, Any]) -> None:
    token = token_for("officer", name="rms-sync")
    filed = client.post("/api/v1/sharing-requests", headers=bearer(token), json=REQUEST)
    assert filed.status_code == 201, filed.get_json()
    row = filed.get_json()
    assert (row["status"], row["entered_by"], row["scope"]["plates"]) == (
        "pending", "client:rms-sync", ["7ABC123"])
    # The client cannot decide what it filed: approval is the administrator's.
    as_client = clients.resolve(engine, settings.security, token, client_addr=None)
    with pytest.raises(AccessDenied):
        sharing.decide_request(engine, as_client, request_id=str(row["id"]),
                               decision="approve", reason="ok")
    user = auth.make_user("bo.admin", "administrator")
    admin = Caller(username="bo.admin", role="administrator", user_id=int(user["id"]),
                   gate_ok=True)
    sharing.decide_request(engine, admin, request_id=str(row["id"]), decision="deny",
                           reason="No agreement with this agency on file")
    (mine,) = client.get("/api/v1/sharing-requests", headers=bearer(token)).get_json()["items"]
    assert (mine["status"], mine["decided_by"]) == ("denied", "bo.admin")
    assert mine["decision_reason"] == "No agreement with this agency on file"
    # Another client sees only what it filed.
    other = token_for("analyst")
    assert client.get("/api/v1/sharing-requests",
                      headers=bearer(other)).get_json()["items"] == []
    (entry,) = audit_repo.search(engine, action="sharing.request")
    assert (entry["actor"], entry["case_number"]) == ("client:rms-sync", "BPD-26-1187")


def test_rules_apply_at_intake(client: FlaskClient, token_for: TokenFor) -> None:
    token = token_for("dispatcher")
    wrong_state = client.post("/api/v1/sharing-requests", headers=bearer(token),
                              json={**REQUEST, "ori": "NV0130100"})
    assert wrong_state.status_code == 400 and wrong_state.mimetype == PROBLEM
    assert wrong_state.get_json()["field"] == "ori"
    nevada = client.post("/api/v1/sharing-requests", headers=bearer(token),
                         json={**REQUEST, "ori": "NV0130100", "state": "NV"})
    assert nevada.status_code == 201 and nevada.get_json()["status"] == "refused"
    records = client.post("/api/v1/sharing-requests", headers=bearer(token),
                          json={**REQUEST, "kind": "other"})
    assert records.get_json()["status"] == "records_release"
    no_scope = client.post("/api/v1/sharing-requests", headers=bearer(token),
                           json={**REQUEST, "plates": []})
    assert no_scope.status_code == 400 and no_scope.get_json()["field"] == "plates"
