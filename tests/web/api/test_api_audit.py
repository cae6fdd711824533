"""The access log over the API (462.5, 462.6): an ``auditor`` client (a client-only role,
never a user's) queries the log page by page under the purpose headers, verifies the chain
and fetches a closed quarter's package (built once if the schedule had not); the review and
sign-off stay the administrator's. Every other client role is refused."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from api_helpers import PROBLEM, PURPOSE, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.accounts import users
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import audit as audit_repo


def test_auditor_pages_through_the_log(client: FlaskClient, engine: Engine,
                                       token_for: TokenFor, world: dict[str, Any]) -> None:
    officer = token_for("officer", name="rms-sync")
    for _ in range(3):
        client.get("/api/v1/status", headers=bearer(officer))
    token = token_for("auditor", name="audit-bot")
    seen: list[int] = []
    cursor = ""
    while True:
        page = client.get("/api/v1/audit/events", query_string={
            "actor": "client:rms-sync", "action": "api.call", "limit": 2, "cursor": cursor},
            headers=bearer(token, **PURPOSE))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        seen += [e["id"] for e in body["items"]]
        assert all(e["data"]["client"] == "rms-sync" for e in body["items"])
        if body["next_cursor"] is None:
            break
        # Entries written between pages are newer than the boundary: never shown again.
        client.get("/api/v1/status", headers=bearer(officer))
        cursor = body["next_cursor"]
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)
    reads = audit_repo.search(engine, action="audit.read")
    assert len(reads) == 2 and {e["actor"] for e in reads} == {"client:audit-bot"}
    assert reads[0]["case_number"] == PURPOSE["Sightline-Case-Number"]
    no_purpose = client.get("/api/v1/audit/events", headers=bearer(token))
    assert no_purpose.status_code == 400 and no_purpose.mimetype == PROBLEM


def test_auditor_verifies_and_fetches_a_closed_quarter(client: FlaskClient, engine: Engine,
                                                       token_for: TokenFor) -> None:
    token = token_for("auditor", name="audit-bot")
    chain = client.get("/api/v1/audit/verification", headers=bearer(token))
    assert chain.status_code == 200 and chain.get_json()["ok"] is True
    assert audit_repo.search(engine, action="audit.verify")[0]["actor"] == "client:audit-bot"
    first = client.get("/api/v1/audit/packages/2025q4", headers=bearer(token))
    assert first.status_code == 200 and first.headers["Sightline-Package-Built"] == "yes"
    names = zipfile.ZipFile(io.BytesIO(first.get_data())).namelist()
    first.close()
    assert "audit-2025Q4/MANIFEST.sha256" in names and "audit-2025Q4/summary.pdf" in names
    again = client.get("/api/v1/audit/packages/2025Q4", headers=bearer(token))
    assert again.status_code == 200 and again.headers["Sightline-Package-Built"] == "no"
    again.close()
    assert len(audit_repo.search(engine, action="export.audit")) == 1
    assert len([e for e in audit_repo.search(engine, action="export.download_audit")
                if e["outcome"] == "allowed"]) == 2
    running = client.get("/api/v1/audit/packages/2099Q1", headers=bearer(token))
    assert running.status_code == 400 and running.get_json()["field"] == "quarter"


def test_auditor_is_a_client_role_only(engine: Engine, settings: Settings) -> None:
    with pytest.raises(ValidationError) as refused:
        users.add_user(engine, settings.security, username="audrey.audit", role="auditor",
                       password="correct horse battery staple 9", actor="ada.admin")
    assert refused.value.field == "role"
