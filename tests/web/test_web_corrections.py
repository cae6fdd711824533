"""Issue 14 point 7(e, f): a misread plate is corrected or annotated (Civil Code 1798.90.51)
and a hit's first verification outcome is never changed without trace (462.7(7))."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo

SEEN = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
SEARCH = {"mode": "exact", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes"}


def add_read(engine: Engine, plate: str, *, hit: bool = False) -> tuple[str, str | None]:
    site = site_repo.create_site(engine, code=f"s{uuid.uuid4().hex[:6]}", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    read_uuid, hit_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    hit_repo.write_reads(engine, [{
        "read": {"uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.71,
                 "char_confidences": [0.71] * len(plate), "camera_id": camera,
                 "site_id": site, "seen_at": SEEN, "direction": "NB", "created_at": SEEN},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": plate,
                                              "match": "exact", "category": "stolen_vehicle"}}]
        if hit else [],
    }], sinks=[], now=SEEN)
    return read_uuid, hit_uuid if hit else None


def test_a_misread_plate_is_corrected_and_annotated_and_found_by_search(
        auth: Any, client: Any, engine: Engine) -> None:
    read_uuid, _ = add_read(engine, "7A8C123")  # the camera read B as 8
    auth.make_user("ann.lee", "officer")
    auth.make_user("vic.vendor", "vendor")
    auth.login("ann.lee")
    auth.state_purpose()  # views of plate data run under a purpose window (462.5)
    detail = client.get(f"/reads/{read_uuid}").get_data(as_text=True)
    assert 'id="read-corrections"' in detail and f"/reads/{read_uuid}/corrections" in detail
    bad = auth.post(f"/reads/{read_uuid}/corrections", {"plate": "7AB-C12!", "reason": "x"})
    assert bad.status_code == 400 and "plate" in bad.get_data(as_text=True)
    no_reason = auth.post(f"/reads/{read_uuid}/corrections", {"plate": "7ABC123",
                                                              "reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_data(as_text=True)
    done = auth.post(f"/reads/{read_uuid}/corrections",
                     {"plate": "7abc 123", "reason": "crop shows B, not 8"})
    assert done.status_code == 303
    assert auth.post(f"/reads/{read_uuid}/annotations",
                     {"note": "vehicle parked, owner contacted"}).status_code == 303
    # The original value is kept.
    assert read_repo.get_by_uuid(engine, read_uuid)["plate"] == "7A8C123"  # type: ignore[index]
    page = client.get(f"/reads/{read_uuid}/corrections").get_data(as_text=True)
    assert 'id="current-plate">7ABC123<' in page and "7A8C123" in page
    assert "crop shows B, not 8" in page and "owner contacted" in page
    # A search for the corrected plate finds the read, and so does one for the original.
    for plate in ("7ABC123", "7A8C123"):
        found = auth.post("/search", {**SEARCH, "plate": plate}).get_data(as_text=True)
        assert read_uuid in found, plate
    corrected = audit_repo.search(engine, action="read.correct")
    assert [(r["actor"], r["outcome"], r["plate"], r["data"]["original"]) for r in corrected] \
        == [("ann.lee", "allowed", "7ABC123", "7A8C123")]
    noted = audit_repo.search(engine, action="read.annotate")[0]
    assert noted["data"]["note"] == "vehicle parked, owner contacted"
    auth.logout()
    auth.login("vic.vendor")
    assert auth.post(f"/reads/{read_uuid}/corrections",
                     {"plate": "1XYZ999", "reason": "x"}).status_code == 403
    assert client.get(f"/reads/{read_uuid}/corrections").status_code == 403


def test_a_hit_is_re_verified_with_a_reason_and_keeps_its_history(
        auth: Any, client: Any, engine: Engine) -> None:
    _, hit = add_read(engine, "7ABC123", hit=True)
    assert hit is not None
    auth.make_user("dee.ortiz", "dispatcher")
    auth.make_user("dan.west", "dispatcher")
    auth.login("dee.ortiz")
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "26-INC-1")
    not_yet = auth.post(f"/hits/{hit}/reverify", {"outcome": "confirmed", "reason": "x"})
    assert not_yet.status_code == 303
    assert hit_repo.get_hit(engine, hit)["verification"] == "pending"
    assert auth.post(f"/hits/{hit}/verify", {"outcome": "not_confirmed",
                                             "note": "CLETS down"}).status_code == 303
    auth.logout()
    auth.login("dan.west")
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "26-INC-2")
    # A second first outcome would overwrite the first without trace: refused.
    overwrite = auth.post(f"/hits/{hit}/verify", {"outcome": "confirmed", "note": "ok"})
    assert overwrite.status_code == 303
    stored = hit_repo.get_hit(engine, hit)
    assert (stored["verification"], stored["verified_by"]) == ("not_confirmed", "dee.ortiz")
    assert "already verified" in client.get(f"/hits/{hit}").get_data(as_text=True)
    no_reason = auth.post(f"/hits/{hit}/reverify", {"outcome": "confirmed", "reason": ""})
    assert no_reason.status_code == 303
    assert hit_repo.get_hit(engine, hit)["verification"] == "not_confirmed"
    assert auth.post(f"/hits/{hit}/reverify", {
        "outcome": "confirmed", "reason": "CLETS back up, msg 4471"}).status_code == 303
    stored = hit_repo.get_hit(engine, hit)
    assert (stored["verification"], stored["verified_by"]) == ("confirmed", "dan.west")
    page = client.get(f"/hits/{hit}").get_data(as_text=True)
    history = page.split('id="verification-history"', 1)[1]
    assert history.index("CLETS down") < history.index("CLETS back up, msg 4471")
    assert "dee.ortiz" in history and 'id="reverify-form"' in history
    entries = [(r["actor"], r["outcome"], r["data"].get("outcome"), r["data"].get("before"))
               for r in reversed(audit_repo.search(engine, action="hit.reverify"))]
    assert entries == [("dan.west", "allowed", "confirmed", "not_confirmed")]
    assert [(r["actor"], r["outcome"]) for r in
            reversed(audit_repo.search(engine, action="hit.verify"))] == [
        ("dee.ortiz", "allowed"), ("dan.west", "denied")]
