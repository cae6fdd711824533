"""Hotlists are governed (policy 462.5, 462.7.1(2)(3); issue 14 points 1 and 5).

Every version of a list is kept with who entered it and who approved it; a list
entered by hand (not an official feed named in the settings) needs a case number,
a reason, an expiry and a second administrator's approval before it raises hits;
matching a listed plate against past reads is a search that needs a purpose, a
case number and approval, and is audited as one. The matcher is built as the
controller builds it (``HotlistMatcher`` over ``active_entries``).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_runner import sightline, signed_in
from sqlalchemy import Engine, func, select

from controller.accounts import Caller
from controller.accounts import purpose as windows
from controller.alerts import hotlists
from controller.alerts.matching import HotlistMatcher
from controller.compliance import audit_flags
from controller.errors import AccessDenied, PurposeRequired, ValidationError
from controller.settings import HotlistSettings, Settings
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import hotlists as repo
from controller.store import sites as site_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import hotlist_entries, hotlist_versions
from controller.store.schema import hotlists as hotlists_table

FEED = HotlistSettings(official_feeds=("NCIC-CA",))
HAND = b"plate,state,category\n7ABC123,CA,stolen\n8XYZ999,CA,wanted\n"
SOON = datetime.now(UTC) + timedelta(days=7)


def person(name: str, role: str = "administrator") -> Caller:
    """A signed-in, trained user as a front end hands them to a use case."""
    return Caller(username=name, role=role, user_id=1, client_addr="192.0.2.9", gate_ok=True)


def at_work(engine: Engine, who: Caller, case_number: str = "26-004512") -> Caller:
    """``who`` stored as a user, with a purpose window open (462.5: plate data needs one)."""
    user_id = user_repo.create(engine, username=who.username, role=who.role, password_hash="x",
                               full_name="", created_by="test", now=datetime.now(UTC))
    stored = dataclasses.replace(who, user_id=user_id)
    windows.state(engine, Settings(), stored, windows.PurposeForm(
        "Stolen vehicle investigation", case_number, "yes"))
    return stored


ANN = person("ann.lee", "analyst")
CHIEF = person("chief")
DEPUTY = person("deputy")


def terms(**change: str) -> dict[str, str]:
    return {"case_number": "26-004512", "reason": "burglary series, suspect vehicles",
            "expires_at": SOON.strftime("%Y-%m-%dT%H:%M"), **change}


def matches(engine: Engine, plate: str, at: datetime | None = None) -> list[str]:
    """The lists a read of ``plate`` hits now (or at ``at``), as the pipeline matches."""
    matcher = HotlistMatcher(repo.active_entries(engine))
    return [m.list_name for m in matcher.match(plate, at or datetime.now(UTC))]


def last(engine: Engine, action: str) -> dict[str, Any]:
    rows = audit_repo.search(engine, action=action, limit=1)
    assert rows, f"no audit entry {action}"
    return dict(rows[0])


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_replacing_a_list_keeps_the_old_version_and_its_entries(engine: Engine) -> None:
    hotlists.import_hotlist(engine, FEED, b"plate\n7ABC123\n8XYZ999\n", "NCIC-CA", actor="feed")
    hotlists.import_hotlist(engine, FEED, b"plate\n1NEW111\n", "NCIC-CA", actor="feed")
    assert count(engine, hotlist_entries) == 3  # the replaced version's two entries stay
    assert matches(engine, "7ABC123") == [] and matches(engine, "1NEW111") == ["NCIC-CA"]
    new, old = repo.list_versions(engine, name="NCIC-CA")
    assert (old["version"], new["version"]) == (1, 2)
    assert old["active_until"] == new["active_from"] and new["active_until"] is None
    assert sorted(e["plate"] for e in repo.version_entries(engine, old["hotlist_id"], 1)) == [
        "7ABC123", "8XYZ999"]
    # The audit entry names the version, the digest of its entries and (small list) the plates.
    data = last(engine, "hotlist.import")["data"]
    assert (data["version_id"], data["plates"], data["official"]) == (new["id"], ["1NEW111"], True)
    assert data["digest"] == new["digest"] == hotlists.entries_digest(
        hotlists.cast_entries(repo.version_entries(engine, new["hotlist_id"], 2)))
    chief = at_work(engine, CHIEF)
    assert hotlists.view_version(engine, chief, old["id"], 10).digest_ok is True
    shown = last(engine, "hotlist.view")
    assert (shown["purpose"], shown["case_number"], shown["data"]["plates"]) == (
        "Stolen vehicle investigation", "26-004512", ["7ABC123", "8XYZ999"])
    # An entry changed in the database after the fact no longer matches, and blocks approval.
    with engine.begin() as conn:
        conn.execute(hotlist_entries.update().where(hotlist_entries.c.plate == "7ABC123")
                     .values(plate="7ABC124"))
    assert hotlists.view_version(engine, chief, old["id"], 10).digest_ok is False


def test_an_official_feed_is_in_force_without_approval(engine: Engine) -> None:
    report = hotlists.import_hotlist(engine, FEED, HAND, "NCIC-CA", actor="system:scheduler")
    assert (report.official, report.status) == (True, "approved")
    assert matches(engine, "7ABC123") == ["NCIC-CA"]
    assert repo.list_versions(engine, status="pending") == []


def test_a_hand_list_raises_no_hit_until_a_second_administrator_approves(
        engine: Engine) -> None:
    report = hotlists.upload_list(engine, FEED, CHIEF, "burglary-26", HAND, **terms())
    assert (report.official, report.status, report.imported) == (False, "pending", 2)
    assert matches(engine, "7ABC123") == []
    imported = last(engine, "hotlist.import")
    assert (imported["case_number"], imported["purpose"]) == (
        "26-004512", "burglary series, suspect vehicles")
    assert imported["data"]["plates"] == ["7ABC123", "8XYZ999"]
    assert report.version_id is not None
    # The administrator who entered the list may not approve it.
    with pytest.raises(AccessDenied, match="another administrator"):
        hotlists.decide_version(engine, CHIEF, report.version_id, approve=True)
    assert last(engine, "hotlist.approve")["outcome"] == "denied"
    assert matches(engine, "7ABC123") == []
    # Nor may an analyst (462.3.1).
    with pytest.raises(AccessDenied):
        hotlists.decide_version(engine, ANN, report.version_id, approve=True)
    approved = hotlists.decide_version(engine, DEPUTY, report.version_id, approve=True)
    assert (approved["status"], approved["decided_by"]) == ("approved", "deputy")
    assert matches(engine, "7ABC123") == ["burglary-26"]
    entry = last(engine, "hotlist.approve")
    assert (entry["outcome"], entry["actor"], entry["case_number"]) == (
        "allowed", "deputy", "26-004512")
    with pytest.raises(ValidationError, match="already approved"):
        hotlists.decide_version(engine, DEPUTY, report.version_id, approve=True)


def test_the_requester_cannot_approve_even_as_another_role_later(engine: Engine) -> None:
    report = hotlists.upload_list(engine, FEED, ANN, "burglary-26", HAND, **terms())
    assert report.version_id is not None
    promoted = person("ann.lee")  # the analyst's account, made an administrator since
    with pytest.raises(AccessDenied):
        hotlists.decide_version(engine, promoted, report.version_id, approve=True)
    assert matches(engine, "7ABC123") == []


@pytest.mark.parametrize("field", ["case_number", "reason", "expires_at"])
def test_a_hand_list_without_case_number_reason_or_expiry_is_refused(
        engine: Engine, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        hotlists.upload_list(engine, FEED, ANN, "burglary-26", HAND, **terms(**{field: " "}))
    assert refused.value.field == field
    assert count(engine, hotlist_versions) == 0 and count(engine, hotlist_entries) == 0


def test_an_expiry_in_the_past_or_a_bad_case_number_is_named(engine: Engine) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    with pytest.raises(ValidationError) as refused:
        hotlists.upload_list(engine, FEED, ANN, "x", HAND, **terms(expires_at=past))
    assert refused.value.field == "expires_at"
    with pytest.raises(ValidationError) as refused:
        hotlists.upload_list(engine, FEED, ANN, "x", HAND, **terms(case_number="<script>"))
    assert refused.value.field == "case_number"


def test_the_lists_expiry_stops_its_hits(engine: Engine) -> None:
    expires = datetime.now(UTC) + timedelta(hours=2)
    # The entry's own expiry is later: the list's expiry bounds it.
    data = b"plate,category,expires\n7ABC123,stolen,2099-01-01\n"
    report = hotlists.upload_list(engine, FEED, ANN, "burglary-26", data,
                                  **terms(expires_at=expires.isoformat()))
    assert report.version_id is not None
    hotlists.decide_version(engine, CHIEF, report.version_id, approve=True)
    assert matches(engine, "7ABC123") == ["burglary-26"]
    assert matches(engine, "7ABC123", expires - timedelta(minutes=1)) == ["burglary-26"]
    assert matches(engine, "7ABC123", expires + timedelta(minutes=1)) == []


def test_entries_changed_after_entry_cannot_be_approved(engine: Engine) -> None:
    report = hotlists.upload_list(engine, FEED, ANN, "burglary-26", HAND, **terms())
    assert report.version_id is not None
    with engine.begin() as conn:
        conn.execute(hotlist_entries.update().where(hotlist_entries.c.plate == "8XYZ999")
                     .values(plate="6PERSNL"))
    with pytest.raises(ValidationError, match="digest"):
        hotlists.decide_version(engine, CHIEF, report.version_id, approve=True)
    assert matches(engine, "6PERSNL") == []
    assert last(engine, "hotlist.approve")["outcome"] == "denied"


def test_an_expired_pending_list_cannot_be_approved(engine: Engine) -> None:
    version = repo.add_version(engine, "old-case", [{"plate": "7ABC123", "category":
                                                     "stolen_vehicle"}],
                               actor="ann.lee", now=datetime.now(UTC) - timedelta(days=3),
                               official=False, digest=hotlists.entries_digest(
                                   [{"plate": "7ABC123", "category": "stolen_vehicle"}]),
                               case_number="26-1", reason="r",
                               expires_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(ValidationError, match="expired"):
        hotlists.decide_version(engine, CHIEF, version["id"], approve=True)
    assert matches(engine, "7ABC123") == []


def test_a_partial_plate_is_a_hand_entry_waiting_for_approval(engine: Engine) -> None:
    version = hotlists.enter_partial(engine, ANN, list_name="incidents", pattern="7ab*12?",
                                     expires_at=SOON.strftime("%Y-%m-%dT%H:%M"),
                                     reason="Homicide, witness partial", case_number="26-77",
                                     rules=FEED)
    assert matches(engine, "7ABZZ129") == []
    with pytest.raises(ValidationError) as refused:
        hotlists.enter_partial(engine, ANN, list_name="NCIC-CA", pattern="7ab*", rules=FEED,
                               expires_at=SOON.strftime("%Y-%m-%dT%H:%M"), reason="r",
                               case_number="26-77")
    assert refused.value.field == "list_name"
    second = hotlists.enter_partial(engine, ANN, list_name="incidents", pattern="5XY?",
                                    expires_at=SOON.strftime("%Y-%m-%dT%H:%M"),
                                    reason="Shooting, partial", case_number="26-78", rules=FEED)
    # The second entry builds on the first, still waiting: approving it puts both in force
    # and closes the first as superseded.
    hotlists.decide_version(engine, CHIEF, second["id"], approve=True)
    assert matches(engine, "7ABZZ129") == ["incidents"] and matches(engine, "5XY1") == [
        "incidents"]
    first = repo.get_version(engine, version["id"])
    assert (first["status"], first["decision_note"]) == ("rejected", "superseded by version 2")
    assert repo.list_versions(engine, status="pending") == []


# --- who watched plate X, since when, on whose word ------------------------------------------

@pytest.fixture
def camera(engine: Engine) -> dict[str, int]:
    site = site_repo.create_site(engine, code="main-st", name="Main St", latitude=34.05,
                                 longitude=-118.25)
    return {"site": site, "camera": site_repo.create_camera(engine, site, {
        "name": "NB 1", "host": "10.0.0.5"})}


def add_read(engine: Engine, where: dict[str, int], plate: str, at: datetime,
             entry_id: int | None = None) -> str:
    """Store a read of ``plate`` (with a hit on ``entry_id`` when given); return the hit's uuid."""
    hit_uuid = str(uuid.uuid4())
    hit_rows = [{"uuid": hit_uuid, "hotlist_entry_id": entry_id,
                 "entry": {"plate": plate, "list": "x"}}] if entry_id else []
    hit_repo.write_reads(engine, [{"read": {
        "uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": where["camera"],
        "site_id": where["site"], "seen_at": at, "direction": "NB", "created_at": at},
        "images": [], "hits": hit_rows}], sinks=[], now=at)
    return hit_uuid


def test_plate_history_names_every_version_who_entered_and_approved_it_and_its_hits(
        engine: Engine, camera: dict[str, int]) -> None:
    report = hotlists.upload_list(engine, FEED, ANN, "burglary-26", HAND, **terms())
    assert report.version_id is not None
    hotlists.decide_version(engine, CHIEF, report.version_id, approve=True)
    entry = next(e for e in repo.list_entries(engine, "burglary-26") if e["plate"] == "7ABC123")
    hit = add_read(engine, camera, "7ABC123", datetime.now(UTC), entry_id=entry["id"])
    hotlists.import_hotlist(engine, FEED, b"plate\n7ABC123\n", "NCIC-CA", actor="feed")
    hotlists.import_hotlist(engine, FEED, b"plate\n1NEW111\n", "NCIC-CA", actor="feed")
    bob = person("bob.ray", "officer")
    with pytest.raises(PurposeRequired):  # no purpose stated: no plate data (462.5)
        hotlists.plate_history(engine, bob, "7abc 123")
    items = hotlists.plate_history(engine, at_work(engine, bob, "26-1"), "7abc 123")
    seen = {(i.entry["list_name"], i.entry["version"]): i for i in items}
    assert set(seen) == {("burglary-26", 1), ("NCIC-CA", 1)}
    hand = seen[("burglary-26", 1)]
    assert (hand.entry["submitted_by"], hand.entry["decided_by"], hand.entry["case_number"],
            hand.entry["official"]) == ("ann.lee", "chief", "26-004512", False)
    assert hand.entry["active_from"] is not None and hand.entry["active_until"] is None
    assert [h["uuid"] for h in hand.hits] == [hit]
    feed = seen[("NCIC-CA", 1)]
    assert feed.entry["active_until"] is not None  # replaced by version 2, still answered
    logged = last(engine, "hotlist.history")
    assert (logged["actor"], logged["plate"], logged["data"]["hits"], logged["purpose"],
            logged["case_number"]) == ("bob.ray", "7ABC123", 1, "Stolen vehicle investigation",
                                       "26-1")
    with pytest.raises(AccessDenied):
        hotlists.plate_history(engine, person("vic.vendor", "vendor"), "7ABC123")


# --- historical hits: a search, with purpose, case number and approval -----------------------

def test_historical_hits_need_purpose_case_number_and_approval_and_are_a_search(
        engine: Engine, settings: Settings, camera: dict[str, int]) -> None:
    add_read(engine, camera, "7ABC123", datetime.now(UTC) - timedelta(days=40))
    add_read(engine, camera, "9OTHER9", datetime.now(UTC) - timedelta(days=40))
    hotlists.import_hotlist(engine, FEED, b"plate\n7ABC123\n", "NCIC-CA", actor="feed")
    entry = str(repo.list_entries(engine, "NCIC-CA")[0]["id"])
    purpose = settings.search.purposes[0]
    with pytest.raises(ValidationError) as refused:
        hotlists.request_historical(engine, settings, ANN, entry, purpose="", case_number="26-9")
    assert refused.value.field == "purpose"
    with pytest.raises(ValidationError) as refused:
        hotlists.request_historical(engine, settings, ANN, entry, purpose=purpose,
                                    case_number=" ")
    assert refused.value.field == "case_number"
    assert last(engine, "hotlist.historical.request")["outcome"] == "denied"
    with pytest.raises(AccessDenied):  # dispatchers do not search
        hotlists.request_historical(engine, settings, person("dee", "dispatcher"), entry,
                                    purpose=purpose, case_number="26-9")
    request_id = hotlists.request_historical(engine, settings, ANN, entry, purpose=purpose,
                                             case_number="26-9")
    with pytest.raises(AccessDenied, match="runs only once approved"):
        hotlists.run_historical(engine, settings, ANN, request_id)
    assert last(engine, "search.historical")["outcome"] == "denied"
    with pytest.raises(AccessDenied):
        hotlists.decide_historical(engine, ANN, request_id, approve=True)
    hotlists.decide_historical(engine, CHIEF, request_id, approve=True)
    with pytest.raises(AccessDenied, match="only the person who asked"):
        hotlists.run_historical(engine, settings, CHIEF, request_id)
    with pytest.raises(PurposeRequired):  # approved, but no purpose window open (462.5)
        hotlists.run_historical(engine, settings, ANN, request_id)
    ann = at_work(engine, ANN)
    result = hotlists.run_historical(engine, settings, ann, request_id)
    assert [r["plate"] for r in result.reads] == ["7ABC123"]
    logged = last(engine, "search.historical")
    assert logged["id"] == result.search_id
    assert (logged["outcome"], logged["actor"], logged["plate"], logged["purpose"],
            logged["case_number"], logged["data"]["approved_by"]) == (
        "allowed", "ann.lee", "7ABC123", purpose, "26-9", "chief")
    assert logged["data"]["read_ids"] == [int(r["id"]) for r in result.reads]
    assert logged["data"]["window"] == windows.require(engine, ann).id
    assert audit_flags.is_search(logged)  # counted with every search in the quarterly audit


# --- the command line -----------------------------------------------------------------------

def test_cli_imports_a_hand_list_pending_refuses_self_approval_and_shows_history(
        cli_env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    env = signed_in(cli_env, "hl.admin", "administrator")
    listed = tmp_path / "burglary.csv"
    listed.write_bytes(HAND)
    missing = sightline(env, "hotlist", "import", str(listed), "--list", "burglary-26")
    assert missing.exit_code != 0 and "case_number" in missing.stderr
    result = sightline(env, "hotlist", "import", str(listed), "--list", "burglary-26",
                       "--case-number", "26-004512", "--reason", "burglary series",
                       "--expires", SOON.strftime("%Y-%m-%dT%H:%M"), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["status"], report["official"]) == ("pending", False)
    pending = sightline(env, "hotlist", "pending")
    assert "burglary-26 v1" in pending.stdout and "26-004512" in pending.stdout
    # The person at the terminal entered it, so may not approve it.
    own = sightline(env, "hotlist", "approve", str(report["version_id"]))
    assert own.exit_code != 0 and "another administrator" in own.stderr
    assert matches(engine, "7ABC123") == []
    hotlists.decide_version(engine, CHIEF, report["version_id"], approve=True)
    assert matches(engine, "7ABC123") == ["burglary-26"]
    closed = sightline(env, "hotlist", "history", "7abc123", "--json")
    assert closed.exit_code == 1 and "sightline purpose state" in closed.stderr
    stated = sightline(env, "purpose", "state", "--purpose", "Stolen vehicle investigation",
                       "--case-number", "26-004512", "--attest")
    assert stated.exit_code == 0, stated.stderr
    history = sightline(env, "hotlist", "history", "7abc123", "--json")
    assert history.exit_code == 0, history.stderr
    (item,) = json.loads(history.stdout)
    assert (item["entry"]["list_name"], item["entry"]["case_number"],
            item["entry"]["decided_by"], item["hits"]) == (
        "burglary-26", "26-004512", "chief", [])
    logged = last(engine, "hotlist.history")
    assert (logged["plate"], logged["purpose"], logged["case_number"]) == (
        "7ABC123", "Stolen vehicle investigation", "26-004512")


def test_upgrade_records_lists_loaded_before_governance_as_versions_in_force(
        db_url: str) -> None:
    eng = make_engine(db_url, pool_size=2)
    try:
        upgrade(eng, "0005")
        loaded = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        with eng.begin() as conn:
            conn.execute(hotlists_table.insert().values(
                id=1, name="CA-SVS", active_version=3, entry_count=1, updated_at=loaded,
                updated_by="cli:ops"))
            conn.execute(hotlist_entries.insert().values(
                hotlist_id=1, version=3, plate="7ABC123", is_partial=False,
                category="stolen_vehicle"))
        upgrade(eng)
        (version,) = repo.list_versions(eng)
        assert (version["list_name"], version["version"], version["status"],
                version["official"], version["submitted_by"], version["active_from"],
                version["active_until"]) == ("CA-SVS", 3, "approved", True, "cli:ops", loaded,
                                             None)
        assert matches(eng, "7ABC123") == ["CA-SVS"]
        # The next import of that list is version 4, and version 3 is kept beside it.
        hotlists.import_hotlist(eng, HotlistSettings(official_feeds=("CA-SVS",)),
                                b"plate\n1NEW111\n", "CA-SVS", actor="feed")
        assert [v["version"] for v in repo.list_versions(eng)] == [4, 3]
    finally:
        eng.dispose()
