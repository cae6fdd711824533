"""Hits: UNVERIFIED queue, CLETS outcome recorded by dispatch and audited, history filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import sites as site_repo

SEEN = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def add_hit(engine: Engine, plate: str = "7ABC123", category: str = "stolen_vehicle") -> str:
    site = site_repo.create_site(engine, code=f"s{uuid.uuid4().hex[:6]}", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    hit_uuid = str(uuid.uuid4())
    hit_repo.write_reads(engine, [{
        "read": {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate,
                 "confidence": 0.95, "char_confidences": [0.95] * len(plate),
                 "camera_id": camera, "site_id": site, "seen_at": SEEN, "direction": "NB",
                 "created_at": SEEN},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": plate,
                                              "match": "exact", "category": category,
                                              "reason": "Stolen 2026-10-30"}}],
    }], sinks=[], now=SEEN)
    return hit_uuid


def test_dispatcher_verifies_a_hit(auth, client, engine: Engine) -> None:
    hit_uuid = add_hit(engine)
    auth.make_user("dee.ortiz", "dispatcher")
    auth.login("dee.ortiz")
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "CAD 26-1187")
    page = client.get("/hits").get_data(as_text=True)
    assert "UNVERIFIED" in page and "7ABC123" in page and "stolen vehicle" in page
    fragment = client.get("/hits/queue").get_data(as_text=True)
    # The queue shows the hit's alert (one per plate per passage), linked to its page.
    assert "7ABC123" in fragment and "/alerts/" in fragment and "<html" not in fragment
    detail = client.get(f"/hits/{hit_uuid}").get_data(as_text=True)
    assert "verify through CLETS" in detail.lower() or "confirm through clets" in detail.lower()
    assert audit_repo.search(engine, action="hit.view")[0]["plate"] == "7ABC123"

    bad = auth.post(f"/hits/{hit_uuid}/verify", {"outcome": "probably"})
    assert bad.status_code == 303
    assert hit_repo.get_hit(engine, hit_uuid)["verification"] == "pending"
    assert "Outcome: must be one of" in client.get(f"/hits/{hit_uuid}").get_data(as_text=True)

    done = auth.post(f"/hits/{hit_uuid}/verify", {"outcome": "confirmed",
                                                  "note": "CLETS msg 4471"})
    assert done.status_code == 303
    hit = hit_repo.get_hit(engine, hit_uuid)
    assert (hit["verification"], hit["verified_by"]) == ("confirmed", "dee.ortiz")
    entry = audit_repo.search(engine, action="hit.verify")[0]
    assert entry["outcome"] == "allowed" and entry["data"]["outcome"] == "confirmed"
    # Its alert had no other hit: verified with it, it leaves the active queue.
    assert "No alerts match" in client.get("/hits/queue").get_data(as_text=True)


def test_history_filters(auth, client, engine: Engine) -> None:
    first = add_hit(engine, "7ABC123")
    add_hit(engine, "8XYZ999", "wanted_warrant")
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    page = client.get("/hits?plate=8xyz999").get_data(as_text=True)
    history = page.split('id="hit-history"')[1]
    assert "8XYZ999" in history and "7ABC123" not in history
    none = client.get("/hits?since=2026-11-03").get_data(as_text=True).split('id="hit-history"')[1]
    assert "No hits match" in none
    bad = client.get("/hits?since=soon")
    assert bad.status_code == 400 and "From: enter a date" in bad.get_data(as_text=True)
    # Officers see hits but cannot record the verification.
    assert auth.post(f"/hits/{first}/verify", {"outcome": "confirmed"}).status_code == 403


def test_unknown_hit_is_404(auth, client: Any) -> None:
    auth.make_user("dee.ortiz", "dispatcher")
    auth.login("dee.ortiz")
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "CAD 26-1187")
    assert client.get(f"/hits/{uuid.uuid4()}").status_code == 404
