"""Issue 16, point 7: sites, hotlists and hotlist entries edited, disabled or deleted
through the controller's use cases, audited, under the hotlist governance rules."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from tests_web_helpers import actions

from controller.store import audit as audit_repo
from controller.store import hotlists as repo
from controller.store import sites as site_repo

HAND_FILE = (b"plate,state,category,reason\n7ABC123,CA,stolen vehicle,burglary 1\n"
             b"8XYZ999,CA,stolen vehicle,burglary 2\n")
TERMS = {"case_number": "26-004512", "reason": "burglary series",
         "expires_at": "2099-01-01T00:00"}


def test_site_is_edited_disabled_and_deleted_only_without_cameras(auth, client,
                                                                   engine: Engine) -> None:
    auth.make_user("val.vendor", "vendor")
    auth.login("val.vendor")
    site_id = site_repo.create_site(engine, code="main-5th", name="Main St")
    site_repo.create_camera(engine, site_id, {"name": "NB 1", "host": "127.0.0.1"})
    site_repo.create_site(engine, code="spare", name="Spare pole")

    bad = auth.post("/cameras/sites/main-5th/edit", {"name": "Main", "latitude": "91"})
    assert bad.status_code == 303
    assert "Latitude: must be between" in client.get(bad.location).get_data(as_text=True)
    assert auth.post("/cameras/sites/main-5th/edit", {
        "name": "Main St & 5th Ave", "address": "500 Main St", "latitude": "34.05",
        "longitude": "-118.25"}).status_code == 303
    site = site_repo.get_site(engine, "main-5th")
    assert (site["name"], site["address"], site["latitude"]) == (
        "Main St & 5th Ave", "500 Main St", 34.05)
    edited = audit_repo.search(engine, action="site.edit")[0]
    assert edited["data"]["before"]["name"] == "Main St"
    assert edited["data"]["after"]["name"] == "Main St & 5th Ave"

    # Disabling needs the box ticked; then the site's cameras no longer run.
    assert auth.post("/cameras/sites/main-5th/enabled", {"enabled": "no"}).status_code == 303
    assert site_repo.get_site(engine, "main-5th")["enabled"] is True
    assert auth.post("/cameras/sites/main-5th/enabled",
                     {"enabled": "no", "confirm": "yes"}).status_code == 303
    assert site_repo.get_site(engine, "main-5th")["enabled"] is False
    assert site_repo.list_cameras(engine, enabled_only=True) == []
    assert "disabled: cameras stopped" in client.get("/cameras").get_data(as_text=True)
    assert auth.post("/cameras/sites/main-5th/enabled", {"enabled": "yes"}).status_code == 303
    assert len(site_repo.list_cameras(engine, enabled_only=True)) == 1

    # A site with a camera is never deleted (its reads name it); one without is.
    kept = auth.post("/cameras/sites/main-5th/delete", {"confirm": "yes"})
    assert "disable the site instead" in client.get(kept.location).get_data(as_text=True)
    assert site_repo.get_site(engine, "main-5th")["code"] == "main-5th"
    assert auth.post("/cameras/sites/spare/delete", {"confirm": "yes"}).status_code == 303
    assert [s["code"] for s in site_repo.list_sites(engine)] == ["main-5th"]
    assert actions(engine, "site.disable") == ["allowed"]
    assert actions(engine, "site.delete") == ["denied", "allowed"]
    assert client.post("/cameras/sites/main-5th/edit").status_code == 400  # no CSRF token


def test_officer_cannot_change_sites(auth, engine: Engine) -> None:
    site_repo.create_site(engine, code="spare", name="Spare pole")
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert auth.post("/cameras/sites/spare/delete", {"confirm": "yes"}).status_code == 403
    assert [s["code"] for s in site_repo.list_sites(engine)] == ["spare"]


def _hand_list(auth, engine: Engine) -> None:
    """burglary-26, entered by hand by ann.lee and approved by chief."""
    auth.post("/hotlists/upload", {"list_name": "burglary-26", **TERMS,
                                   "file": (io.BytesIO(HAND_FILE), "list.csv")},
              content_type="multipart/form-data")
    (version,) = repo.list_versions(engine, status="pending")
    auth.logout()
    auth.login("chief")
    assert auth.post(f"/hotlists/versions/{version['id']}/decide",
                     {"decision": "approve"}).status_code == 303
    auth.logout()
    auth.login("ann.lee")


def _active_plates(engine: Engine) -> list[str]:
    return sorted(e["plate"] for e in repo.active_entries(engine))


def test_hotlist_disabled_by_analyst_enabled_by_administrator(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.make_user("chief", "administrator")
    auth.login("ann.lee")
    _hand_list(auth, engine)
    assert _active_plates(engine) == ["7ABC123", "8XYZ999"]
    assert auth.post("/hotlists/burglary-26/enabled", {"enabled": "no"}).status_code == 303
    assert _active_plates(engine) == ["7ABC123", "8XYZ999"]  # not confirmed: nothing done
    assert auth.post("/hotlists/burglary-26/enabled",
                     {"enabled": "no", "confirm": "yes"}).status_code == 303
    assert _active_plates(engine) == []
    assert len(repo.list_entries(engine, "burglary-26")) == 2  # kept, not deleted
    # Enabling raises hits again: the administrator's call, not the analyst's.
    assert auth.post("/hotlists/burglary-26/enabled", {"enabled": "yes"}).status_code == 303
    assert _active_plates(engine) == []
    assert actions(engine, "hotlist.enable") == ["denied"]
    auth.logout()
    auth.login("chief")
    assert auth.post("/hotlists/burglary-26/enabled", {"enabled": "yes"}).status_code == 303
    assert _active_plates(engine) == ["7ABC123", "8XYZ999"]
    assert actions(engine, "hotlist.disable") == ["allowed"]


def test_entry_ended_at_once_extended_only_with_approval(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.make_user("chief", "administrator")
    auth.login("ann.lee")
    _hand_list(auth, engine)
    auth.state_purpose()
    entries = {e["plate"]: e["id"] for e in repo.list_entries(engine, "burglary-26")}
    page = client.get("/hotlists/burglary-26").get_data(as_text=True)
    assert 'id="entry-change-form"' in page

    no_case = auth.post("/hotlists/burglary-26/change", {
        "entry_id": str(entries["8XYZ999"]), "reason": "recovered", "confirm": "yes"})
    assert "Case number:" in client.get(no_case.location).get_data(as_text=True)
    unconfirmed = auth.post("/hotlists/burglary-26/change", {
        "entry_id": str(entries["8XYZ999"]), "reason": "recovered", "case_number": "26-9"})
    assert "Confirmation:" in client.get(unconfirmed.location).get_data(as_text=True)
    assert _active_plates(engine) == ["7ABC123", "8XYZ999"]

    # Ending an entry narrows the list: in force at once, as a new kept version.
    assert auth.post("/hotlists/burglary-26/change", {
        "entry_id": str(entries["8XYZ999"]), "reason": "vehicle recovered",
        "case_number": "26-004512", "confirm": "yes"}).status_code == 303
    assert _active_plates(engine) == ["7ABC123"]
    versions = repo.list_versions(engine, name="burglary-26")
    assert [(v["version"], v["status"]) for v in versions] == [(2, "approved"), (1, "approved")]
    ended = audit_repo.search(engine, action="hotlist.entry.end")[0]
    assert (ended["plate"], ended["case_number"], ended["actor"]) == (
        "8XYZ999", "26-004512", "ann.lee")

    # A later expiry makes the list match for longer: it waits for an administrator.
    (kept,) = repo.list_entries(engine, "burglary-26")
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    assert auth.post("/hotlists/burglary-26/change", {
        "entry_id": str(kept["id"]), "expires_at": later, "reason": "still outstanding",
        "case_number": "26-004512"}).status_code == 303
    assert repo.list_versions(engine, name="burglary-26")[0]["status"] == "pending"
    assert repo.list_entries(engine, "burglary-26")[0]["expires_at"] is None  # v2 in force
    # While a version waits, no other change is made over it.
    waiting = auth.post("/hotlists/burglary-26/change", {
        "entry_id": str(kept["id"]), "reason": "x", "case_number": "26-1", "confirm": "yes"})
    assert "waits for approval" in client.get(waiting.location).get_data(as_text=True)


def test_official_feed_entries_change_at_the_source(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    auth.post("/hotlists/upload", {"list_name": "CA-SVS",
                                   "file": (io.BytesIO(HAND_FILE), "list.csv")},
              content_type="multipart/form-data")
    entry = repo.list_entries(engine, "CA-SVS")[0]
    auth.state_purpose()
    refused = auth.post("/hotlists/CA-SVS/change", {
        "entry_id": str(entry["id"]), "reason": "recovered", "case_number": "26-1",
        "confirm": "yes"})
    assert "official feed" in client.get(refused.location).get_data(as_text=True)
    assert len(repo.list_entries(engine, "CA-SVS")) == 2
