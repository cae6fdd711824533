"""Hotlists: upload with a line-by-line report, partial plates with expiry, all audited."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from tests_web_helpers import actions

from controller.alerts import hotlists
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import hotlists as repo
from controller.store import sites as site_repo

GOOD_FILE = (b"plate,state,category,reason\n7ABC123,CA,stolen vehicle,SVS 1\n"
             b"8XYZ999,CA,stolen plate,SVS 2\n")
BAD_ROW = GOOD_FILE + b"!!!,CA,stolen vehicle,bad\n"


def _upload(auth, name: str, data: bytes):
    return auth.post("/hotlists/upload", {"list_name": name,
                                          "file": (io.BytesIO(data), "list.csv")},
                     content_type="multipart/form-data")


def test_upload_and_review(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    response = _upload(auth, "CA-SVS", GOOD_FILE)
    assert response.status_code == 200
    assert "Imported 2 entries into CA-SVS" in response.get_data(as_text=True)
    assert actions(engine, "hotlist.import") == ["allowed"]
    # The entries are plate data: the page asks for the purpose first (462.5), then logs it.
    asked = client.get("/hotlists/CA-SVS")
    assert asked.status_code == 303 and asked.location.startswith("/purpose?next=")
    assert actions(engine, "hotlist.view") == []
    auth.state_purpose(case_number="26-000321")
    listing = client.get("/hotlists/CA-SVS").get_data(as_text=True)
    assert "7ABC123" in listing and "8XYZ999" in listing
    assert actions(engine, "hotlist.view") == ["allowed"]
    logged = audit_repo.search(engine, action="hotlist.view")[0]
    assert (logged["purpose"], logged["case_number"], logged["data"]["plates"]) == (
        "Stolen vehicle investigation", "26-000321", ["7ABC123", "8XYZ999"])
    assert client.get("/hotlists/nope").status_code == 404


def test_bad_row_reported_by_line(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    page = _upload(auth, "CA-SVS", BAD_ROW).get_data(as_text=True)
    assert "line 4:" in page
    missing = auth.post("/hotlists/upload", {"list_name": "CA-SVS"},
                        content_type="multipart/form-data")
    assert missing.status_code == 400 and "File: choose a hotlist file" in \
        missing.get_data(as_text=True)


def test_partial_entry_with_expiry(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    form = {"list_name": "major-incidents", "pattern": "7ab*12?", "state": "ca",
            "reason": "Homicide 26-4512", "case_number": "26-4512",
            "expires_at": "2099-01-01T00:00"}
    page = auth.post("/hotlists/partial", form)
    assert page.status_code == 200
    assert "waits for an administrator" in page.get_data(as_text=True)
    # Entered by hand: nothing in force until a second administrator approves it.
    assert hotlists.list_entries(engine, "major-incidents", 10) == []
    pending = repo.list_versions(engine, status="pending")
    assert [(v["list_name"], v["submitted_by"]) for v in pending] == [
        ("major-incidents", "ann.lee")]
    assert audit_repo.search(engine, action="hotlist.partial.add")[0]["plate"] == "7AB*12?"
    for change, field in [({"expires_at": ""}, "Expires at"),
                          ({"expires_at": "2001-01-01T00:00"}, "Expires at"),
                          ({"pattern": "7ABC123"}, "Pattern"),
                          ({"reason": " "}, "Reason"),
                          ({"case_number": ""}, "Case number")]:
        bad = auth.post("/hotlists/partial", {**form, **change})
        assert bad.status_code == 400 and f"{field}:" in bad.get_data(as_text=True), change
    assert len(repo.list_versions(engine, status="pending")) == 1
    auth.logout()
    auth.make_user("chief", "administrator")
    auth.login("chief")
    decided = auth.post(f"/hotlists/versions/{pending[0]['id']}/decide",
                        {"decision": "approve"})
    assert decided.status_code == 303
    rows = hotlists.list_entries(engine, "major-incidents", 10)
    assert [(r["plate"], r["is_partial"]) for r in rows] == [("7AB*12?", True)]


def test_officer_reviews_but_cannot_upload(auth, client, engine: Engine) -> None:
    auth.make_user("bob.ray", "officer")
    auth.login("bob.ray")
    assert client.get("/hotlists").status_code == 200
    assert "Upload a hotlist file" not in client.get("/hotlists").get_data(as_text=True)
    assert _upload(auth, "CA-SVS", GOOD_FILE).status_code == 403


HAND_TERMS = {"case_number": "26-004512", "reason": "burglary series",
              "expires_at": "2099-01-01T00:00"}


def test_hand_list_waits_for_a_second_administrator_then_shows_in_the_plate_history(
        auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "administrator")
    auth.make_user("chief", "administrator")
    auth.login("ann.lee")
    missing = auth.post("/hotlists/upload", {"list_name": "burglary-26",
                                             "file": (io.BytesIO(GOOD_FILE), "list.csv")},
                        content_type="multipart/form-data")
    assert missing.status_code == 400 and "Case number:" in missing.get_data(as_text=True)
    page = auth.post("/hotlists/upload", {"list_name": "burglary-26", **HAND_TERMS,
                                          "file": (io.BytesIO(GOOD_FILE), "list.csv")},
                     content_type="multipart/form-data")
    assert "waits for an administrator" in page.get_data(as_text=True)
    (version,) = repo.list_versions(engine, status="pending")
    queue = client.get("/hotlists/approvals").get_data(as_text=True)
    assert "burglary-26 v1" in queue and "entered by you" in queue
    own = auth.post(f"/hotlists/versions/{version['id']}/decide", {"decision": "approve"})
    assert own.status_code == 303
    assert repo.get_version(engine, version["id"])["status"] == "pending"
    assert hotlists.list_entries(engine, "burglary-26", 10) == []
    auth.logout()
    auth.login("chief")
    asked = client.get(f"/hotlists/versions/{version['id']}")
    assert asked.status_code == 303 and asked.location.startswith("/purpose?next=")
    auth.state_purpose(case_number="26-000999")
    review = client.get(f"/hotlists/versions/{version['id']}").get_data(as_text=True)
    assert "7ABC123" in review and "26-004512" in review and "ann.lee" in review
    assert auth.post(f"/hotlists/versions/{version['id']}/decide",
                     {"decision": "approve"}).status_code == 303
    assert len(hotlists.list_entries(engine, "burglary-26", 10)) == 2
    history = client.get("/hotlists/history?plate=7abc123")
    body = history.get_data(as_text=True)
    assert history.status_code == 200
    assert "burglary-26 v1" in body and "ann.lee" in body and "chief" in body
    assert "26-004512" in body and "entered by hand" in body
    logged = audit_repo.search(engine, action="hotlist.history")[0]
    assert (logged["actor"], logged["plate"], logged["purpose"], logged["case_number"]) == (
        "chief", "7ABC123", "Stolen vehicle investigation", "26-000999")
    bad = client.get("/hotlists/history?plate=7AB$")
    assert bad.status_code == 400 and "Plate:" in bad.get_data(as_text=True)


def test_historical_match_is_requested_approved_by_another_administrator_then_run_as_a_search(
        auth, client, engine: Engine) -> None:
    site = site_repo.create_site(engine, code="main-st", name="Main St", latitude=34.05,
                                 longitude=-118.25)
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    seen = datetime.now(UTC) - timedelta(days=30)
    hit_repo.write_reads(engine, [{"read": {
        "uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
        "confidence": 0.97, "char_confidences": [0.97] * 7, "camera_id": camera,
        "site_id": site, "seen_at": seen, "direction": "NB", "created_at": seen},
        "images": [], "hits": []}], sinks=[], now=seen)
    auth.make_user("ann.lee", "analyst")
    auth.make_user("chief", "administrator")
    auth.login("ann.lee")
    assert _upload(auth, "CA-SVS", GOOD_FILE).status_code == 200  # the official feed
    asked = client.get("/hotlists/history?plate=7ABC123")
    assert asked.status_code == 303 and asked.location.startswith("/purpose?next=")
    assert audit_repo.search(engine, action="hotlist.history") == []
    auth.state_purpose()
    history = client.get("/hotlists/history?plate=7ABC123").get_data(as_text=True)
    assert "Ask to match past reads" in history
    entry = next(e for e in hotlists.list_entries(engine, "CA-SVS", 10)
                 if e["plate"] == "7ABC123")
    no_case = auth.post("/hotlists/historical", {"entry_id": str(entry["id"]),
                                                 "purpose": "Stolen vehicle investigation",
                                                 "case_number": ""})
    assert no_case.status_code == 303
    assert "Case number:" in client.get(no_case.location).get_data(as_text=True)
    asked = auth.post("/hotlists/historical", {"entry_id": str(entry["id"]),
                                               "purpose": "Stolen vehicle investigation",
                                               "case_number": "26-004512"})
    assert asked.status_code == 303
    (request,) = repo.list_historical_requests(engine)
    early = auth.post(f"/hotlists/historical/{request['id']}/run", {})
    assert early.status_code == 303 and repo.get_historical_request(
        engine, request["id"])["runs"] == 0
    auth.logout()
    auth.login("chief")
    assert "7ABC123" in client.get("/hotlists/approvals").get_data(as_text=True)
    assert auth.post(f"/hotlists/historical/{request['id']}/decide",
                     {"decision": "approve"}).status_code == 303
    auth.logout()
    auth.login("ann.lee")
    listing = client.get("/hotlists/historical").get_data(as_text=True)
    assert "approved by chief" in listing
    ran = auth.post(f"/hotlists/historical/{request['id']}/run", {})
    body = ran.get_data(as_text=True)
    assert ran.status_code == 200 and "1 read" in body and "approved by chief" in body
    logged = audit_repo.search(engine, action="search.historical")[0]
    assert (logged["outcome"], logged["plate"], logged["case_number"]) == (
        "allowed", "7ABC123", "26-004512")
    assert f"audit entry #{logged['id']}" in body
