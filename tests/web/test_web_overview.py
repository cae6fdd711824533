"""The start page's live overview (issue 16), role by role, against Policy 462.

What each role sees and does not: the recording status (loudly, with every reason,
when nothing is recorded: 462.9), each camera's state, fps and reconnects in the
last hour (a flapping camera is not OK), a masked still for the administrator only
(``cameras.image``; never vendors, DESIGN 462.4), today's hits and the newest reads
with their plates and crops only under a purpose window, each view logged (462.5).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from test_web_search import add_read
from tests_web_helpers import Auth

from controller.accounts import users
from controller.compliance import program
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import health as health_repo
from controller.store import hits as hit_repo
from controller.store import sites as site_repo

WORK = ("Stolen vehicle investigation", "26-004512")
DATA_ROLES = ("administrator", "officer", "dispatcher", "analyst")


def entries(engine: Engine, action: str) -> list[dict[str, Any]]:
    """The audit entries with this action, oldest first."""
    return [dict(r) for r in reversed(audit_repo.search(engine, action=action, limit=1000))]


def healthy(engine: Engine, camera_id: int, *, connected: bool = True, reconnects: int = 0,
            last_frame_ago: float = 0.5) -> None:
    now = datetime.now(UTC)
    health_repo.upsert_health(engine, camera_id, {
        "state": "ok" if connected else "down", "connected": connected,
        "fps": 9.8 if connected else 0.0, "clock_drift_seconds": None,
        "last_frame_at": now - timedelta(seconds=last_frame_ago),
        "alarms": [] if connected else [{"code": "stream_down", "severity": "error",
                                         "message": "no video: connection refused"}],
        "reconnects_last_hour": reconnects}, now)


def add_hit_today(engine: Engine, camera_id: int, site_id: int, plate: str) -> str:
    now = datetime.now(UTC)
    hit_uuid = str(uuid.uuid4())
    hit_repo.write_reads(engine, [{
        "read": {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate,
                 "confidence": 0.95, "char_confidences": [0.95] * len(plate),
                 "camera_id": camera_id, "site_id": site_id, "seen_at": now,
                 "direction": "NB", "created_at": now},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": plate,
                                              "match": "exact", "category": "stolen_vehicle"}}],
    }], sinks=[], now=now)
    return hit_uuid


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, Any]:
    """A site with one streaming camera, a read with its crop, a hit today."""
    site = site_repo.create_site(engine, code="main-st", name="Main St & 5th")
    camera = site_repo.create_camera(engine, site, {
        "name": "NB lane 1", "host": "10.0.0.5", "stream_uri": "rtsp://10.0.0.5/main"})
    healthy(engine, camera)
    read = add_read(engine, settings, camera, site, "7ABC123",
                    datetime.now(UTC) - timedelta(minutes=2))
    hit = add_hit_today(engine, camera, site, "6TRJ244")
    return {"site": site, "camera": camera, "read": read, "hit": hit}


def go_live(engine: Engine) -> int:
    """Publish the policy and record the hearing and adoption (462.9)."""
    policy_id = users.publish_policy(engine, version="462-2026", title="Policy 462",
                                     adopted_on=date(2026, 1, 2), text="ALPR policy",
                                     actor="chief")
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution="2026-14", actor="chief")
    return policy_id


def sign_in(auth: Auth, username: str, role: str, policy_id: int | None = None) -> None:
    user = auth.make_user(username, role)
    if policy_id is not None:
        users.acknowledge_policy(auth.engine, user=user, policy_id=policy_id)
    assert auth.login(username).status_code == 302


def text_of(page: str, element_id: str) -> str:
    """The text inside the element with this id, up to its tag's first closing tag (tags
    dropped, spaces squeezed): the elements looked at hold no element of their own kind."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>', page)
    assert match, f"no #{element_id}"
    inner = page[match.end():page.index(f"</{match.group(1)}>", match.end())]
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def test_nothing_recorded_says_why_loudly(auth: Auth, client: Any, engine: Engine) -> None:
    """An empty system: no policy, no hearing and adoption, no camera; each reason named."""
    sign_in(auth, "ada.admin", "administrator")
    page = client.get("/").get_data(as_text=True)
    banner = page.split('id="recording"')[1].split("</section>")[0]
    assert "recording-off" in page.split('id="recording"')[0][-80:]
    assert 'role="alert"' in banner and "Not recording" in banner
    reasons = text_of(page, "not-recording-reasons")
    assert "No usage and privacy policy is published" in reasons
    assert "no public hearing and adoption recorded" in reasons
    assert "No camera is installed and enabled with a stream" in reasons
    assert "Publish the policy" in banner  # the administrator is shown where to fix it
    # The refresh says the same, without re-announcing it as an alert every few seconds.
    fragment = client.get("/overview/live").get_data(as_text=True)
    assert "<html" not in fragment and "Not recording" in fragment
    assert 'role="alert"' not in fragment


def test_all_cameras_down_is_a_reason_and_recording_when_one_streams(
        auth: Auth, client: Any, engine: Engine, world: dict[str, Any]) -> None:
    policy_id = go_live(engine)
    sign_in(auth, "oli.officer", "officer", policy_id)
    page = client.get("/").get_data(as_text=True)
    assert "Recording" in text_of(page, "recording") and "not-recording-reasons" not in page
    assert "1 of 1 camera streaming" in text_of(page, "recording")
    healthy(engine, world["camera"], connected=False, last_frame_ago=600)
    fragment = client.get("/overview/live").get_data(as_text=True)
    assert text_of(fragment, "not-recording-reasons") == (
        "Every camera is down or reconnecting (1 of 1).")
    camera = text_of(fragment, f"camera-{world['camera']}")
    assert "down" in camera and "connection refused" in camera
    healthy(engine, world["camera"], connected=False, last_frame_ago=20)
    fragment = client.get("/overview/live").get_data(as_text=True)
    assert "reconnecting" in text_of(fragment, f"camera-{world['camera']}")


def test_a_flapping_camera_shows_its_reconnects(auth: Auth, client: Any, engine: Engine,
                                                world: dict[str, Any]) -> None:
    """Connected at full fps, but 120 reconnects in the last hour: never a steady OK."""
    policy_id = go_live(engine)
    healthy(engine, world["camera"], reconnects=120)
    sign_in(auth, "dee.dispatch", "dispatcher", policy_id)
    page = client.get("/").get_data(as_text=True)
    camera = page.split(f'id="camera-{world["camera"]}"')[1].split("</li>")[0]
    assert re.search(r'class="cam-reconnects">120<', camera)
    assert "unstable" in camera and re.search(r'class="cam-fps">9.8<', camera)
    assert "Reconnecting again and again in the last hour: NB lane 1." in text_of(
        page, "recording-warnings")
    healthy(engine, world["camera"], reconnects=1)
    fragment = client.get("/overview/live").get_data(as_text=True)
    camera = fragment.split(f'id="camera-{world["camera"]}"')[1].split("</li>")[0]
    assert re.search(r'class="cam-reconnects">1<', camera) and "unstable" not in camera


@pytest.mark.parametrize("role", DATA_ROLES)
def test_plate_data_only_under_a_purpose_window_and_logged(
        auth: Auth, client: Any, engine: Engine, world: dict[str, Any], role: str) -> None:
    policy_id = go_live(engine)
    sign_in(auth, "pat.user", role, policy_id)
    page = client.get("/").get_data(as_text=True)
    # Counts are not plate data: today's hits are counted for every role that sees hits.
    assert text_of(page, "hits-today-count") == "1"
    # No window: a prompt for one, and no plate, crop or read anywhere on the page.
    for section in ("reads-feed", "hits-today"):
        assert "State a purpose" in text_of(page, section)
    assert "7ABC123" not in page and "6TRJ244" not in page and world["read"] not in page
    assert not entries(engine, "read.feed") and not entries(engine, "hit.latest")

    auth.state_purpose(*WORK)
    page = client.get("/").get_data(as_text=True)
    crop = f"/reads/{world['read']}/image/crop"
    assert "7ABC123" in text_of(page, "reads-feed") and f'src="{crop}"' in page
    assert "6TRJ244" in text_of(page, "hits-today")
    (shown,) = entries(engine, "read.feed")
    assert (shown["purpose"], shown["case_number"]) == WORK
    # The feed's read and the read that raised the hit, newest first.
    assert shown["data"]["plates"] == ["6TRJ244", "7ABC123"] and shown["data"]["results"] == 2
    (hits_shown,) = entries(engine, "hit.latest")
    assert hits_shown["data"]["plates"] == ["6TRJ244"] and hits_shown["case_number"] == WORK[1]
    # The crop itself is a logged view of an image, under the window.
    image = client.get(crop)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    (viewed,) = entries(engine, "image.view")
    assert viewed["plate"] == "7ABC123" and (viewed["purpose"], viewed["case_number"]) == WORK
    # Refreshing an unchanged feed logs nothing new; a new read is logged with the list.
    client.get("/overview/live")
    assert len(entries(engine, "read.feed")) == 1 and len(entries(engine, "hit.latest")) == 1
    add_read(engine, auth.app.config["SIGHTLINE_SETTINGS"], world["camera"], world["site"],
             "8XYZ999", datetime.now(UTC))
    fragment = client.get("/overview/live").get_data(as_text=True)
    assert "8XYZ999" in text_of(fragment, "reads-feed")
    assert entries(engine, "read.feed")[-1]["data"]["plates"] == ["6TRJ244", "7ABC123",
                                                                   "8XYZ999"]


def test_only_the_administrator_gets_camera_stills(auth: Auth, client: Any, engine: Engine,
                                                   world: dict[str, Any]) -> None:
    policy_id = go_live(engine)
    still = f'src="/cameras/{world["camera"]}/snapshot.jpg"'
    sign_in(auth, "ada.admin", "administrator", policy_id)
    assert still in client.get("/").get_data(as_text=True)
    auth.logout()
    for role in ("officer", "dispatcher", "analyst"):
        sign_in(auth, f"u.{role}", role, policy_id)
        page = client.get("/").get_data(as_text=True)
        assert "snapshot.jpg" not in page and f"camera-{world['camera']}" in page
        assert client.get(f"/cameras/{world['camera']}/snapshot.jpg").status_code == 403
        auth.logout()


def test_vendor_goes_to_camera_health_and_sees_no_data(auth: Auth, client: Any,
                                                       engine: Engine,
                                                       world: dict[str, Any]) -> None:
    policy_id = go_live(engine)
    sign_in(auth, "val.vendor", "vendor", policy_id)
    assert client.get("/").location == "/cameras"
    fragment = client.get("/overview/live").get_data(as_text=True)
    assert f"camera-{world['camera']}" in fragment and "Recording" in fragment
    for never in ("snapshot.jpg", "reads-feed", "hits-today", "7ABC123", "6TRJ244",
                  "State a purpose"):
        assert never not in fragment, never


def test_charts_count_reads_and_hits_with_a_table(auth: Auth, client: Any, engine: Engine,
                                                  settings: Settings,
                                                  world: dict[str, Any]) -> None:
    """Per hour over the last day and per day over 30 days, as SVG with a table beside it;
    hits only for those who see hits; counts need no purpose window (462.9 publishes them)."""
    policy_id = go_live(engine)
    for days_ago in (3, 3, 40):  # two reads three days ago; one outside the 30 days
        add_read(engine, settings, world["camera"], world["site"], "5PQR111",
                 datetime.now(UTC) - timedelta(days=days_ago))
    sign_in(auth, "ana.lyst", "analyst", policy_id)
    page = client.get("/").get_data(as_text=True)
    assert "5PQR111" not in page  # counted, never shown
    charts = {c: page.split(f'id="chart-{c}"')[1].split("</figure>")[0]
              for c in ("reads-hours", "hits-hours", "reads-days", "hits-days")}
    for chart in charts.values():
        assert '<svg class="chart-svg"' in chart and 'role="img"' in chart
        assert "as a table" in chart and "<table" in chart
    # Today: the feed's read and the hit's read; three days ago: two; 40 days ago: not shown.
    assert "4 in all" in charts["reads-days"] and "2 in all" in charts["reads-hours"]
    assert "1 in all" in charts["hits-days"] and "1 in all" in charts["hits-hours"]
    three_days = (datetime.now(UTC) - timedelta(days=3)).date()
    cells = re.findall(r"<tr><td>([^<]+)</td><td class=\"mono\">(\d+)</td></tr>",
                       charts["reads-days"])
    assert len(cells) == 30
    assert (f"{three_days:%b} {three_days.day}", "2") in cells
    assert sum(int(n) for _day, n in cells) == 4
