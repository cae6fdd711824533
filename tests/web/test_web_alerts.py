"""Alerts for dispatch (issue 16, point 3): one open alert per plate per passage window,
joined by repeat sightings and further lists; acknowledge, verify, dismiss, all audited;
paging and filters; the queue's images; existing hits grouped by migration 0012."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alert_sightings import camera, sight
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select
from tests_web_helpers import Auth

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import alert_lists, alerts, hits, reads

T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
CLETS = "Hit verification through CLETS (462.7(7))"
ROW = re.compile(r'data-alert-id="(\d+)"')


def _data_dir(app: Flask):  # type: ignore[no-untyped-def]
    return app.config["SIGHTLINE_SETTINGS"].data_dir


def _dispatcher(auth: Auth, name: str = "dee.ortiz") -> None:
    auth.make_user(name, "dispatcher")
    auth.login(name)
    auth.state_purpose(CLETS, "CAD 26-1187")


def _queue(client: FlaskClient, query: str = "state=all") -> str:
    response = client.get(f"/hits/queue?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _alerts(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(alerts).order_by(alerts.c.id)).mappings()]


def test_repeat_sightings_join_within_the_window_and_open_a_new_alert_after(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    cam = camera(engine)
    data = _data_dir(app)
    first = sight(engine, data, cam, "7ABC123", T0)
    again = sight(engine, data, cam, "7ABC123", T0 + timedelta(minutes=4))
    later = sight(engine, data, cam, "7ABC123", T0 + timedelta(minutes=15))  # 11 after
    other = sight(engine, data, cam, "8XYZ999", T0 + timedelta(minutes=5))
    rows = _alerts(engine)
    assert [(r["plate"], r["sightings"]) for r in rows] == [
        ("7ABC123", 2), ("7ABC123", 1), ("8XYZ999", 1)]
    # Every hit is still stored, each in its alert.
    stored = {u: hit_repo.get_hit(engine, u)["alert_id"] for u in first + again + later + other}
    assert stored[first[0]] == stored[again[0]] == rows[0]["id"]
    assert stored[later[0]] == rows[1]["id"] and stored[other[0]] == rows[2]["id"]

    _dispatcher(auth)
    fragment = _queue(client)
    assert ROW.findall(fragment) == [str(rows[1]["id"]), str(rows[2]["id"]), str(rows[0]["id"])]
    joined = fragment.split(f'data-alert-id="{rows[0]["id"]}"')[1].split("</tr>")[0]
    assert '<td class="alert-sightings">2</td>' in joined


def test_the_window_is_configurable(app: Flask, engine: Engine) -> None:
    cam = camera(engine)
    short = timedelta(minutes=2)
    sight(engine, _data_dir(app), cam, "7ABC123", T0, window=short)
    sight(engine, _data_dir(app), cam, "7ABC123", T0 + timedelta(minutes=3), window=short)
    assert [r["sightings"] for r in _alerts(engine)] == [1, 1]
    assert app.config["SIGHTLINE_SETTINGS"].alerts.join_minutes == 10


def test_a_read_on_two_lists_is_one_alert_counting_two_lists(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    cam = camera(engine)
    both = sight(engine, _data_dir(app), cam, "7ABC123", T0, ("CA-SVS", "NCIC-WANTED"))
    sight(engine, _data_dir(app), cam, "7ABC123", T0 + timedelta(minutes=1), ("CA-SVS",))
    (alert,) = _alerts(engine)
    assert alert["sightings"] == 2 and len(both) == 2
    with engine.connect() as conn:
        names = conn.execute(select(alert_lists.c.list_name).where(
            alert_lists.c.alert_id == alert["id"]).order_by(alert_lists.c.list_name)).scalars()
        assert list(names) == ["CA-SVS", "NCIC-WANTED"]
        assert len(conn.execute(select(hits.c.id).where(hits.c.alert_id == alert["id"]))
                   .all()) == 3
    _dispatcher(auth)
    row = _queue(client).split("</tr>")[1]
    assert "CA-SVS, NCIC-WANTED" in row and "2 lists" in row
    page = client.get(f"/alerts/{alert['id']}").get_data(as_text=True)
    assert "CA-SVS, NCIC-WANTED (2)" in page and page.count("/hits/") >= 3


def test_hits_joining_an_alert_are_each_still_dispatched(app: Flask, engine: Engine) -> None:
    cam = camera(engine)
    for minute in (0, 2):
        hit_repo.write_reads(engine, [{
            "read": {"uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
                     "confidence": 0.9, "char_confidences": [0.9] * 7,
                     "camera_id": cam.camera_id, "site_id": cam.site_id,
                     "seen_at": T0 + timedelta(minutes=minute), "created_at": T0},
            "hits": [{"uuid": str(uuid.uuid4()), "entry": {"list": "CA-SVS"}},
                     {"uuid": str(uuid.uuid4()), "entry": {"list": "NCIC"}}]}],
            sinks=["webhook:cad"], now=T0)
    assert len(_alerts(engine)) == 1
    assert hit_repo.delivery_counts(engine) == {"pending": 4}


def test_acknowledge_verify_and_dismiss_are_audited(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    cam = camera(engine)
    sight(engine, _data_dir(app), cam, "7ABC123", T0, ("CA-SVS", "NCIC"))
    sight(engine, _data_dir(app), cam, "8XYZ999", T0)
    first, second = (int(r["id"]) for r in _alerts(engine))  # type: ignore[call-overload]

    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    assert client.get(f"/alerts/{first}").status_code == 200  # officers see alerts
    assert auth.post(f"/alerts/{first}/acknowledge").status_code == 403
    assert audit_repo.search(engine, action="access.denied")[0]["actor"] == "ann.lee"
    auth.logout()

    _dispatcher(auth)
    assert auth.post(f"/alerts/{first}/acknowledge").status_code == 303
    assert _alerts(engine)[0]["state"] == "acknowledged"
    assert auth.post(f"/alerts/{first}/acknowledge").status_code == 303  # twice: refused
    acks = audit_repo.search(engine, action="alert.acknowledge")
    assert [a["outcome"] for a in acks] == ["denied", "allowed"]
    assert acks[1]["purpose"] == CLETS and acks[1]["case_number"] == "CAD 26-1187"
    assert "acknowledged already" in client.get(f"/alerts/{first}").get_data(as_text=True)

    auth.post(f"/alerts/{first}/verify", {"outcome": "probably"})
    assert _alerts(engine)[0]["state"] == "acknowledged"
    assert audit_repo.search(engine, action="alert.verify")[0]["outcome"] == "denied"
    assert auth.post(f"/alerts/{first}/verify", {"outcome": "confirmed",
                                                 "note": "CLETS msg 4471"}).status_code == 303
    verified = _alerts(engine)[0]
    assert (verified["state"], verified["outcome"], verified["closed_by"]) == (
        "verified", "confirmed", "dee.ortiz")
    entry = audit_repo.search(engine, action="alert.verify")[0]
    assert entry["outcome"] == "allowed" and entry["plate"] == "7ABC123"
    assert len(entry["data"]["hits"]) == 2
    for hit_uuid in entry["data"]["hits"]:
        assert hit_repo.get_hit(engine, hit_uuid)["verification"] == "confirmed"

    assert auth.post(f"/alerts/{second}/dismiss", {"reason": "  "}).status_code == 303
    assert "Reason: is required" in client.get(f"/alerts/{second}").get_data(as_text=True)
    assert _alerts(engine)[1]["state"] == "open"
    auth.post(f"/alerts/{second}/dismiss", {"reason": "Plate misread: trailer 8XYZ990"})
    dismissed = _alerts(engine)[1]
    assert (dismissed["state"], dismissed["close_note"]) == (
        "dismissed", "Plate misread: trailer 8XYZ990")
    assert [e["outcome"] for e in audit_repo.search(engine, action="alert.dismiss")] == [
        "allowed", "denied"]
    assert audit_repo.search(engine, action="alert.dismiss")[0]["data"]["reason"] == (
        "Plate misread: trailer 8XYZ990")
    # Closed alerts leave the active queue; a closed alert takes no further action.
    assert "No alerts match" in _queue(client, "state=active")
    auth.post(f"/alerts/{second}/verify", {"outcome": "confirmed"})
    assert _alerts(engine)[1]["state"] == "dismissed"


def test_paging(app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    cam = camera(engine)
    for n in range(30):
        sight(engine, _data_dir(app), cam, f"7AB{n:04d}", T0 + timedelta(seconds=n))
    _dispatcher(auth)
    first = _queue(client, "page=1")
    assert len(ROW.findall(first)) == 25 and "page 1 of 2" in first
    assert "7AB0029" in first and "7AB0004" not in first  # newest sighting first
    second = _queue(client, "page=2")
    assert len(ROW.findall(second)) == 5 and "7AB0000" in second and 'rel="prev"' in second
    assert not set(ROW.findall(first)) & set(ROW.findall(second))
    page = client.get("/hits?page=x").get_data(as_text=True)
    assert "Page: enter a page number" in page


def test_filters(app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    north, south = camera(engine, "NB lane 1"), camera(engine, "SB lane 2")
    data = _data_dir(app)
    sight(engine, data, north, "7ABC123", T0, ("CA-SVS",))
    sight(engine, data, south, "8XYZ999", T0 + timedelta(days=1), ("NCIC",))
    sight(engine, data, south, "5DEF456", T0 + timedelta(days=2), ("CA-SVS", "NCIC"))
    _dispatcher(auth)
    plates = lambda q: set(re.findall(r'data-plate="(\w+)"', _queue(client, q)))  # noqa: E731
    assert plates("state=all") == {"7ABC123", "8XYZ999", "5DEF456"}
    assert plates("state=all&a_plate=8xyz+999") == {"8XYZ999"}
    assert plates("state=all&list=CA-SVS") == {"7ABC123", "5DEF456"}
    assert plates(f"state=all&camera={south.camera_id}") == {"8XYZ999", "5DEF456"}
    assert plates("state=all&a_since=2026-11-03&a_until=2026-11-03") == {"8XYZ999"}
    ack = _alerts(engine)[0]["id"]
    auth.post(f"/alerts/{ack}/acknowledge")
    assert plates("state=acknowledged") == {"7ABC123"}
    assert plates("state=open") == {"8XYZ999", "5DEF456"}
    page = client.get("/hits?camera=north").get_data(as_text=True)
    assert "Camera: " in page and 'id="queue-error"' in page
    assert "State: choose" in client.get("/hits?state=gone").get_data(as_text=True)
    # Each page of the queue is audited with its filter, once per window and content.
    entries = audit_repo.search(engine, action="alert.queue")
    assert all(e["purpose"] == CLETS for e in entries)
    assert [e["data"]["filter"]["camera"] for e in entries].count(south.camera_id) == 1
    assert any(e["data"]["filter"]["states"] == ["open"] for e in entries)


def test_queue_and_alert_show_the_images_audited(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    cam = camera(engine)
    sight(engine, _data_dir(app), cam, "7ABC123", T0)
    (alert,) = _alerts(engine)
    _dispatcher(auth)
    fragment = _queue(client)
    crops = re.findall(r'class="thumb-crop alert-crop"[^>]*src="([^"]+)"', fragment)
    assert len(crops) == 1 and "/thumb/crop?search=" in crops[0]
    image = client.get(crops[0].replace("&amp;", "&"))
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"  # a JPEG
    thumbs = audit_repo.search(engine, action="image.thumbnails")
    assert thumbs and thumbs[0]["purpose"] == CLETS
    # The grant is the dispatcher's own: another user's queue entry does not serve them.
    page = client.get(f"/alerts/{alert['id']}").get_data(as_text=True)
    assert 'id="alert-crop"' in page and 'id="alert-overview"' in page
    assert audit_repo.search(engine, action="alert.view")[0]["plate"] == "7ABC123"
    auth.logout()
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    refused = client.get(crops[0].replace("&amp;", "&"))
    assert refused.status_code == 403


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database, migrated by the test itself."""
    eng = make_engine(db_url, pool_size=2)
    yield eng
    eng.dispose()


def test_migration_groups_existing_hits_by_the_same_rule(bare_engine: Engine) -> None:
    engine = bare_engine
    upgrade(engine, "0011")
    cam = camera(engine)
    rows = [("7ABC123", 0, "CA-SVS", "confirmed"), ("7ABC123", 4, "NCIC", "pending"),
            ("7ABC123", 30, "CA-SVS", "not_confirmed"), ("8XYZ999", 1, "CA-SVS", "pending")]
    with engine.begin() as conn:
        for plate, minute, listed, outcome in rows:
            read_id = conn.execute(insert(reads).values(
                uuid=str(uuid.uuid4()), plate=plate, raw_text=plate, confidence=0.9,
                char_confidences=[0.9] * 7, camera_id=cam.camera_id, site_id=cam.site_id,
                seen_at=T0 + timedelta(minutes=minute), created_at=T0)
                .returning(reads.c.id)).scalar_one()
            conn.execute(insert(hits).values(
                uuid=str(uuid.uuid4()), read_id=read_id, entry={"list": listed},
                created_at=T0, verification=outcome,
                verified_by=None if outcome == "pending" else "dee.ortiz",
                verified_at=None if outcome == "pending" else T0))
    upgrade(engine)
    got = [(a["plate"], a["sightings"], a["state"], a["outcome"]) for a in _alerts(engine)]
    assert got == [("7ABC123", 2, "open", None), ("7ABC123", 1, "verified", "not_confirmed"),
                   ("8XYZ999", 1, "open", None)]
    with engine.connect() as conn:
        assert conn.execute(select(hits.c.id).where(hits.c.alert_id.is_(None))).all() == []
        assert sorted(conn.execute(select(alert_lists.c.list_name).where(
            alert_lists.c.alert_id == _alerts(engine)[0]["id"])).scalars()) == ["CA-SVS", "NCIC"]
