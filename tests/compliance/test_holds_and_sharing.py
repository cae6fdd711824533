"""Evidence holds (462.10) and data sharing (462.12) through the web pages."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from compliance_world import add_read
from sqlalchemy import Engine

from controller.compliance import sharing
from controller.errors import PolicyViolation, ValidationError
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import holds as hold_repo

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEARCH = {"mode": "exact", "plate": "7ABC123", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes"}


def verify_package(folder: Path) -> dict[str, str]:
    listed = {}
    for line in (folder / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        listed[name] = digest
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and p.name != "MANIFEST.sha256"}
    assert files == set(listed)
    return listed


def package_from_flash(page: str, kind: str, data_dir: Path) -> Path:
    """The package the flash names: by its name (the page shows no server path)."""
    marker = f"{kind} package "
    assert marker in page and " built: download it" in page, page[:2000]
    name = page.split(marker, 1)[1].split(" built", 1)[0]
    assert str(data_dir) not in page
    folder = {"Evidence": "evidence", "Export": "sharing"}[kind]
    return data_dir / "exports" / folder / name


def test_hold_from_search_results_then_evidence_export(
        auth: Any, engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    held = [add_read(engine, settings.data_dir, world, "7ABC123", T0, hit=True),
            add_read(engine, settings.data_dir, world, "7ABC123", T0 + timedelta(hours=1))]
    add_read(engine, settings.data_dir, world, "9OTHER9", T0)
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    results = auth.post("/search", SEARCH)
    assert results.status_code == 200
    search_id = audit_repo.search(engine, action="search.exact")[0]["id"]
    assert f'href="/holds?search_id={search_id}"' in results.get_data(as_text=True)
    prefilled = auth.client.get(f"/holds?search_id={search_id}").get_data(as_text=True)
    assert f'name="search_id" value="{search_id}"' in prefilled
    missing = auth.post("/holds", {"case_number": "", "reason": "x",
                                   "search_id": str(search_id)})
    assert missing.status_code == 400 and "case_number" in missing.get_data(as_text=True)
    assert hold_repo.list_holds(engine) == []
    created = auth.post("/holds", {"case_number": "26-004512", "reason": "suspect vehicle",
                                   "search_id": str(search_id)}, follow_redirects=True)
    assert created.status_code == 200
    hold = hold_repo.list_holds(engine)[0]
    assert hold["read_count"] == 2 and hold["created_by"] == "ann.lee"
    exported = auth.post("/holds/export", {"hold_id": str(hold["id"])}, follow_redirects=True)
    folder = package_from_flash(exported.get_data(as_text=True), "Evidence",
                                settings.data_dir)
    listed = verify_package(folder)
    assert {"reads.json", "hits.json", "images.json", "access-log.jsonl", "hold.json"} <= \
        set(listed)
    reads = json.loads((folder / "reads.json").read_text())
    assert sorted(r["uuid"] for r in reads) == sorted(held)
    assert len(json.loads((folder / "hits.json").read_text())) == 1
    images = json.loads((folder / "images.json").read_text())
    assert len(images["images"]) == 4 and images["problems"] == []
    for image in images["images"]:
        assert hashlib.sha256((folder / image["file"]).read_bytes()).hexdigest() == \
            image["sha256"]
    log = [json.loads(x) for x in (folder / "access-log.jsonl").read_text().splitlines()]
    assert {"search.exact", "hold.create"} <= {x["action"] for x in log}
    assert audit_repo.search(engine, action="export.evidence")[0]["data"]["reads"] == 2
    other = auth.post("/holds", {"case_number": "1", "reason": "x", "search_id": "999999"})
    assert other.status_code == 400 and "search_id" in other.get_data(as_text=True)
    later = add_read(engine, settings.data_dir, world, "9OTHER9", T0 + timedelta(hours=2))
    assert auth.post("/holds/add", {"hold_id": str(hold["id"]),
                                    "read_uuids": later}).status_code == 303
    assert hold_repo.get_hold(engine, hold["id"])["read_count"] == 3
    assert auth.post("/holds/release",
                     {"hold_id": str(hold["id"]), "confirm": "yes"}).status_code == 303
    closed = auth.post("/holds/add", {"hold_id": str(hold["id"]), "read_uuids": later})
    assert closed.status_code == 400 and "released" in closed.get_data(as_text=True)
    assert [r["action"] for r in reversed(audit_repo.search(engine))
            if r["action"].startswith("hold.")] == ["hold.create", "hold.add_reads",
                                                     "hold.release"]


REQUEST = {"agency": "Brawley Police Department", "ori": "CA0130100", "state": "CA",
           "kind": "law_enforcement", "requester_name": "Det. Maria Ortiz",
           "purpose": "Robbery suspect vehicle", "case_number": "BPD-26-0991",
           "received_on": "2026-11-20", "plates": "7ABC123",
           "since": "2026-10-30T00:00", "until": "2026-11-03T00:00"}


def test_in_state_request_approved_and_fulfilled(auth: Any, engine: Engine,
                                                 settings: Settings,
                                                 world: dict[str, Any]) -> None:
    inside = add_read(engine, settings.data_dir, world, "7ABC123", T0, hit=True)
    add_read(engine, settings.data_dir, world, "7ABC123", T0 + timedelta(days=10))
    add_read(engine, settings.data_dir, world, "8ZZZ888", T0)
    auth.make_user("chief", "administrator")
    auth.login("chief")
    assert auth.post("/compliance/sharing", REQUEST).status_code == 303
    row = sharing.list_requests(engine)[0]
    assert row["status"] == "pending"
    early = auth.post("/compliance/sharing/fulfil", {"request_id": str(row["id"])})
    assert early.status_code == 403 and "pending" in early.get_data(as_text=True)
    no_reason = auth.post("/compliance/sharing/decide", {"request_id": str(row["id"]),
                                                         "decision": "approve", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_data(as_text=True)
    assert auth.post("/compliance/sharing/decide", {
        "request_id": str(row["id"]), "decision": "approve",
        "reason": "robbery investigation, CA agency"}).status_code == 303
    done = auth.post("/compliance/sharing/fulfil", {"request_id": str(row["id"])},
                     follow_redirects=True)
    folder = package_from_flash(done.get_data(as_text=True), "Export", settings.data_dir)
    verify_package(folder)
    assert [r["uuid"] for r in json.loads((folder / "reads.json").read_text())] == [inside]
    on_file = json.loads((folder / "request.json").read_text())
    assert on_file["status"] == "approved" and on_file["decided_by"] == "chief"
    assert sharing.get_request(engine, row["id"])["status"] == "fulfilled"
    actions = [r["action"] for r in reversed(audit_repo.search(engine))
               if r["action"].startswith("sharing.")]
    assert actions == ["sharing.request", "sharing.fulfil", "sharing.approve", "sharing.fulfil"]
    public = auth.client.get("/transparency").get_data(as_text=True)
    assert "Brawley Police Department" in public


@pytest.mark.parametrize(("changes", "status", "why"), [
    ({"state": "AZ", "ori": "AZ0070000", "agency": "Yuma PD"}, "refused", "out-of-state"),
    ({"kind": "federal", "agency": "CBP"}, "refused", "federal"),
    ({"kind": "other", "agency": "Acme Insurance"}, "records_release", "Records Release"),
])
def test_requests_released_to_nobody(auth: Any, engine: Engine, settings: Settings,
                                     world: dict[str, Any], tmp_path: Path,
                                     changes: dict[str, str], status: str, why: str) -> None:
    add_read(engine, settings.data_dir, world, "7ABC123", T0)
    auth.make_user("chief", "administrator")
    auth.login("chief")
    page = auth.post("/compliance/sharing", {**REQUEST, **changes}, follow_redirects=True)
    assert why in page.get_data(as_text=True)
    row = sharing.list_requests(engine)[0]
    assert row["status"] == status
    entry = audit_repo.search(engine, action="sharing.request")[0]
    assert entry["outcome"] == ("denied" if status == "refused" else "allowed")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PolicyViolation, match=r"462\.12"):
        sharing.fulfil(engine, settings, row["id"], out, actor="chief")
    assert list(out.iterdir()) == []
    decided = auth.post("/compliance/sharing/decide", {"request_id": str(row["id"]),
                                                       "decision": "approve", "reason": "r"})
    assert decided.status_code == 400 and sharing.get_request(engine, row["id"])["status"] \
        == status


def test_out_of_state_allowed_when_configured(engine: Engine, settings: Settings) -> None:
    allowed = settings.model_copy(update={"sharing": settings.sharing.model_copy(
        update={"allow_out_of_state": True})})
    scope = sharing.make_scope(["7ABC123"], T0, T0 + timedelta(days=1), [])
    row = sharing.enter_request(engine, allowed, agency="Yuma PD", ori="AZ0070000",
                                state="AZ", kind="law_enforcement", requester_name="Lt. Z",
                                purpose="p", case_number="c", scope=scope,
                                received_on=date(2026, 11, 1), actor="chief")
    assert row["status"] == "pending"
    with pytest.raises(ValidationError, match="ori"):
        sharing.enter_request(engine, allowed, agency="Yuma PD", ori="12", state="AZ",
                              kind="law_enforcement", requester_name="Lt. Z", purpose="p",
                              case_number="c", scope=scope, received_on=date(2026, 11, 1),
                              actor="chief")
    assert len(sharing.list_requests(engine)) == 1
