"""Evidence and sharing packages leave by their owner's download, logged, and are purged
with their reads unless held (issue 14 point 6; 462.10, 462.12), and an ORI is checked
against the requesting agency's state (point 7)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from compliance_world import add_read
from flask import Flask
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.compliance import holds, retention, sharing
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import packages as package_repo

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OLD = datetime.now(UTC) - timedelta(days=800)  # past the 730 days of retention


def unzip_and_verify(body: bytes) -> dict[str, bytes]:
    """The package's files by name (folder stripped), every one checked by its manifest."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    listed = {}
    for line in files["MANIFEST.sha256"].decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
        listed[name] = digest
    assert set(listed) == set(files) - {"MANIFEST.sha256"}
    return files


def second_auth(app: Flask, engine: Engine) -> Auth:
    return Auth(app, app.test_client(), engine)


def test_evidence_package_is_downloaded_by_its_owner_only_and_each_download_is_logged(
        app: Flask, auth: Any, engine: Engine, settings: Settings,
        world: dict[str, Any]) -> None:
    held = add_read(engine, settings.data_dir, world, "7ABC123", T0, hit=True)
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert auth.post("/holds", {"case_number": "26-004512", "reason": "suspect vehicle",
                                "read_uuids": held}).status_code == 303
    hold_id = holds.list_holds(engine)[0]["id"]
    # The package holds plates and images: the export asks for the purpose first (462.5).
    asked = auth.post("/holds/export", {"hold_id": str(hold_id)})
    assert asked.status_code == 303 and asked.location.startswith("/purpose")
    assert package_repo.packages_of(engine, "ann.lee", "evidence") == []
    auth.state_purpose(case_number="26-004512")
    assert auth.post("/holds/export", {"hold_id": str(hold_id)}).status_code == 303
    exported = audit_repo.search(engine, action="export.evidence")[0]
    assert (exported["purpose"], exported["case_number"]) == (
        "Stolen vehicle investigation", "26-004512")
    package = package_repo.packages_of(engine, "ann.lee", "evidence")[0]
    page = auth.client.get("/holds").get_data(as_text=True)
    assert package["name"] in page and 'action="/packages/evidence/download"' in page
    got = auth.post("/packages/evidence/download", {"package_id": str(package["id"])})
    body = got.data
    got.close()  # the zip streams from an open file
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert f'filename={package["name"]}.zip' in got.headers["Content-Disposition"]
    files = unzip_and_verify(body)
    assert {"reads.json", "hits.json", "hold.json", "access-log.jsonl"} <= set(files)
    assert held in files["reads.json"].decode()
    logged = audit_repo.search(engine, action="export.download_evidence")
    assert [(e["actor"], e["outcome"], e["case_number"]) for e in logged] == [
        ("ann.lee", "allowed", "26-004512")]
    assert logged[0]["data"]["package_id"] == package["id"]
    # Another officer, and an administrator, are refused: the package is ann.lee's.
    for name, role in (("bob.ruiz", "officer"), ("chief", "administrator")):
        other = second_auth(app, engine)
        other.make_user(name, role)
        other.login(name)
        refused = other.post("/packages/evidence/download", {"package_id": str(package["id"])})
        assert refused.status_code == 403 and "ann.lee" in refused.get_data(as_text=True)
        assert package["name"] not in other.client.get("/holds").get_data(as_text=True)
    outcomes = [(e["actor"], e["outcome"]) for e in
                reversed(audit_repo.search(engine, action="export.download_evidence"))]
    assert outcomes == [("ann.lee", "allowed"), ("bob.ruiz", "denied"), ("chief", "denied")]
    assert package_repo.get_package(engine, package["id"])["downloads"] == 1
    missing = auth.post("/packages/evidence/download", {"package_id": "99999"})
    assert missing.status_code == 400 and "package" in missing.get_data(as_text=True)


def test_sharing_package_is_downloaded_by_the_releasing_administrator(
        app: Flask, auth: Any, engine: Engine, settings: Settings,
        world: dict[str, Any]) -> None:
    inside = add_read(engine, settings.data_dir, world, "7ABC123", T0)
    auth.make_user("chief", "administrator")
    auth.login("chief")
    assert auth.post("/compliance/sharing", {
        "agency": "Brawley Police Department", "ori": "CA0130100", "state": "CA",
        "kind": "law_enforcement", "requester_name": "Det. Maria Ortiz",
        "purpose": "Robbery suspect vehicle", "case_number": "BPD-26-0991",
        "received_on": "2026-11-20", "plates": "7ABC123", "since": "2026-10-30T00:00",
        "until": "2026-11-03T00:00"}).status_code == 303
    request_id = sharing.list_requests(engine)[0]["id"]
    auth.post("/compliance/sharing/decide", {"request_id": str(request_id),
                                             "decision": "approve", "reason": "CA robbery"})
    assert auth.post("/compliance/sharing/fulfil",
                     {"request_id": str(request_id)}).status_code == 303
    package = package_repo.packages_of(engine, "chief", "sharing")[0]
    assert package["sharing_request_id"] == request_id
    assert package["name"] in auth.client.get("/compliance/sharing").get_data(as_text=True)
    got = auth.post("/packages/sharing/download", {"package_id": str(package["id"])})
    body = got.data
    got.close()  # the zip streams from an open file
    assert got.status_code == 200
    files = unzip_and_verify(body)
    assert inside in files["reads.json"].decode() and "request.json" in files
    deputy = second_auth(app, engine)
    deputy.make_user("deputy.chief", "administrator")
    deputy.login("deputy.chief")
    assert deputy.post("/packages/sharing/download",
                       {"package_id": str(package["id"])}).status_code == 403
    # An evidence id on the sharing route is no sharing package.
    assert auth.post("/packages/evidence/download",
                     {"package_id": str(package["id"])}).status_code == 400
    assert [e["outcome"] for e in reversed(
        audit_repo.search(engine, action="export.download_sharing"))] == ["allowed", "denied"]


def test_package_is_purged_with_its_reads_unless_its_hold_is_open(
        engine: Engine, settings: Settings, world: dict[str, Any], tmp_path: Path) -> None:
    kept_read = add_read(engine, settings.data_dir, world, "5HLD001", OLD)
    gone_read = add_read(engine, settings.data_dir, world, "8XYZ999", OLD + timedelta(days=1))
    out = tmp_path / "evidence"
    out.mkdir()
    open_hold = holds.create_hold(engine, case_number="26-1", reason="homicide",
                                  read_uuids=[kept_read], actor="ann.lee")
    released = holds.create_hold(engine, case_number="26-2", reason="closed case",
                                 read_uuids=[gone_read], actor="ann.lee")
    kept = holds.export_evidence(engine, settings, open_hold, out, actor="ann.lee")
    gone = holds.export_evidence(engine, settings, released, out, actor="ann.lee")
    holds.release_hold(engine, released, actor="ann.lee")
    proposal = retention.propose(engine, settings, actor="chief")
    assert proposal is not None and proposal["read_count"] == 1
    today = datetime.now(UTC).date()
    retention.record_council(engine, proposal["id"], meeting_on=today, resolution="2026-77",
                             actor="chief")
    retention.record_attorney(engine, proposal["id"], name="Dana Whitfield",
                              permitted_on=today, actor="chief")
    report = retention.purge(engine, settings, proposal["id"], actor="chief")
    assert report.reads == 1
    assert not gone.exists() and kept.is_dir()
    rows = {p["name"]: p for p in (package_repo.get_package(engine, i) for i in (1, 2))}
    assert rows[gone.name]["purged_at"] is not None and rows[gone.name]["purged_by"] == "chief"
    assert rows[kept.name]["purged_at"] is None
    purged = audit_repo.search(engine, action="export.purge")
    assert [(e["data"]["name"], e["case_number"]) for e in purged] == [(gone.name, "26-2")]
    assert package_repo.packages_of(engine, "ann.lee", "evidence")[0]["name"] == kept.name


@pytest.mark.parametrize(("ori", "state"), [("AZ0070000", "CA"), ("CA0130100", "NV")])
def test_ori_of_another_state_than_the_agency_is_refused(
        auth: Any, engine: Engine, settings: Settings, ori: str, state: str) -> None:
    scope = sharing.make_scope(["7ABC123"], T0, T0 + timedelta(days=1), [])
    with pytest.raises(ValidationError) as refused:
        sharing.enter_request(engine, settings, agency="Yuma PD", ori=ori, state=state,
                              kind="law_enforcement", requester_name="Lt. Z", purpose="p",
                              case_number="c", scope=scope, received_on=date(2026, 11, 1),
                              actor="chief")
    assert refused.value.field == "ori" and state in str(refused.value)
    auth.make_user("chief", "administrator")
    auth.login("chief")
    page = auth.post("/compliance/sharing", {
        "agency": "Yuma PD", "ori": ori, "state": state, "kind": "law_enforcement",
        "requester_name": "Lt. Z", "purpose": "p", "case_number": "c",
        "received_on": "2026-11-20", "plates": "7ABC123", "since": "2026-10-30T00:00",
        "until": "2026-11-03T00:00"})
    assert page.status_code == 400 and "ori" in page.get_data(as_text=True)
    assert sharing.list_requests(engine) == []
