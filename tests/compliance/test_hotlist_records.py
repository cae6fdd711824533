"""Hotlist records in the compliance flows (462.6, 462.7.1(2)(3), 462.8).

Hand-entered lists and the hits they raised are flagged one by one in the
quarterly audit package; replaced hotlist versions are kept until the approved
retention purge removes those replaced before its cutoff, and never otherwise.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from controller.accounts import Caller
from controller.alerts import hotlists
from controller.compliance import exports, retention
from controller.errors import PolicyViolation
from controller.settings import HotlistSettings, Settings
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import hotlists as repo
from controller.store.schema import hits, hotlist_entries

FEED = HotlistSettings(official_feeds=("NCIC-CA",))
ANN = Caller(username="ann.lee", role="analyst", user_id=2, client_addr="192.0.2.9",
             gate_ok=True)
CHIEF = Caller(username="chief", role="administrator", user_id=1, client_addr="192.0.2.8",
               gate_ok=True)


def hit_on(engine: Engine, world: dict[str, Any], plate: str, entry_id: int,
           at: datetime) -> str:
    """A read of ``plate`` with a hit on hotlist entry ``entry_id``; return the hit's uuid."""
    hit_uuid = str(uuid.uuid4())
    hit_repo.write_reads(engine, [{"read": {
        "uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": world["camera"],
        "site_id": world["site"], "seen_at": at, "direction": "NB", "created_at": at},
        "images": [], "hits": [{"uuid": hit_uuid, "hotlist_entry_id": entry_id,
                                "entry": {"plate": plate, "list": "x"}}]}], sinks=[], now=at)
    return hit_uuid


def entry_id(engine: Engine, list_name: str, plate: str) -> int:
    return next(int(e["id"]) for e in repo.list_entries(engine, list_name)
                if e["plate"] == plate)


def this_quarter() -> str:
    now = datetime.now(UTC)
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def test_quarterly_package_flags_hand_list_entries_and_their_hits(
        engine: Engine, settings: Settings, world: dict[str, Any], tmp_path: Path) -> None:
    now = datetime.now(UTC)
    hotlists.import_hotlist(engine, FEED, b"plate\n5DEF678\n", "NCIC-CA", actor="feed")
    feed_hit = hit_on(engine, world, "5DEF678", entry_id(engine, "NCIC-CA", "5DEF678"), now)
    report = hotlists.upload_list(
        engine, FEED, ANN, "burglary-26", b"plate\n7ABC123\n8XYZ999\n",
        case_number="26-004512", reason="burglary series",
        expires_at=(now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    assert report.version_id is not None
    hotlists.decide_version(engine, CHIEF, report.version_id, approve=True)
    hand_hit = hit_on(engine, world, "7ABC123", entry_id(engine, "burglary-26", "7ABC123"), now)
    imported = audit_repo.search(engine, action="hotlist.import", limit=1)[0]
    folder = exports.build_audit_package(engine, settings, this_quarter(), tmp_path,
                                         actor="chief")
    flags = json.loads((folder / "flags.json").read_text())
    entries = [f for f in flags if f["kind"] == "hand_list_entry"]
    assert sorted(f["detail"].split(" ")[0] for f in entries) == ["7ABC123", "8XYZ999"]
    assert {(f["actor"], f["event_id"]) for f in entries} == {("ann.lee", imported["id"])}
    assert all("case 26-004512" in f["detail"] and "approved by chief" in f["detail"]
               for f in entries)
    hand_hits = [f for f in flags if f["kind"] == "hand_list_hit"]
    assert len(hand_hits) == 1 and hand_hit in hand_hits[0]["detail"]
    assert hand_hits[0]["actor"] == "ann.lee"
    assert not any(feed_hit in f["detail"] or "5DEF678" in f["detail"] for f in flags)
    html = (folder / "summary.html").read_text()
    assert "Hotlists entered by hand (not official feeds): 2 entries and 1 hits" in html
    assert "Hit raised by a hotlist entered by hand" in (folder / "flags.csv").read_text()
    assert exports.verify_manifest(folder) == []


def _version(engine: Engine, name: str, plate: str, at: datetime, **kw: Any) -> dict[str, Any]:
    rows = [{"plate": plate, "category": "stolen_vehicle"}]
    return dict(repo.add_version(engine, name, rows, actor="feed", now=at,
                                 digest=hotlists.entries_digest(rows), **kw))


def test_replaced_versions_are_purged_only_through_the_approved_purge(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    old = _version(engine, "NCIC-CA", "1OLD111", now - timedelta(days=900), official=True)
    hit_uuid = hit_on(engine, world, "1OLD111",
                      entry_id(engine, "NCIC-CA", "1OLD111"), now - timedelta(days=1))
    kept = _version(engine, "NCIC-CA", "2MID222", now - timedelta(days=800), official=True)
    refused = _version(engine, "hand", "3REF333", now - timedelta(days=860), official=False,
                       case_number="24-1", reason="r", expires_at=now + timedelta(days=1))
    repo.decide_version(engine, refused["id"], approve=False, actor="chief",
                        now=now - timedelta(days=850), note="no case")
    hotlists.import_hotlist(engine, FEED, b"plate\n4NEW444\n", "NCIC-CA", actor="feed")
    # Replacing never deletes: all four versions and their entries are still there.
    assert len(repo.list_versions(engine)) == 4
    proposal = retention.propose(engine, settings, actor="chief")
    assert proposal is not None
    assert audit_repo.search(engine, action="retention.propose")[0]["data"][
        "hotlist_versions"] == 2
    with pytest.raises(PolicyViolation):
        retention.purge(engine, settings, int(proposal["id"]), actor="chief")
    assert len(repo.list_versions(engine)) == 4
    today = now.date()
    retention.record_council(engine, int(proposal["id"]), meeting_on=today,
                             resolution="2026-141", actor="chief")
    retention.record_attorney(engine, int(proposal["id"]), name="Dana Whitfield",
                              permitted_on=today, actor="chief")
    report = retention.purge(engine, settings, int(proposal["id"]), actor="chief")
    assert (report.hotlist_versions, report.hotlist_entries) == (2, 2)
    left = {(v["list_name"], v["version"]) for v in repo.list_versions(engine)}
    assert left == {("NCIC-CA", kept["version"]), ("NCIC-CA", 3)}
    with engine.connect() as conn:
        plates = set(conn.execute(select(hotlist_entries.c.plate)).scalars())
        link = conn.execute(select(hits.c.hotlist_entry_id, hits.c.entry)
                            .where(hits.c.uuid == hit_uuid)).one()
    assert plates == {"2MID222", "4NEW444"}
    # The recent hit on the purged entry stays, with its copy of the entry it matched.
    assert link[0] is None and link[1]["plate"] == "1OLD111"
    assert old["version"] == 1
    purged = audit_repo.search(engine, action="retention.purge")[0]
    assert purged["data"]["hotlist_versions"] == 2
