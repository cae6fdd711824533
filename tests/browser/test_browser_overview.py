"""The live overview in Chromium at 1366 and 390 px (issue 16): status, a masked camera
still, reconnects, the reads feed behind a purpose window, refreshing without a reload."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import cv2
import numpy as np
import pytest
from browser_helpers import Site
from playwright.sync_api import Page, expect

from controller.accounts import users
from controller.compliance import program
from controller.store import health as health_repo
from controller.store import reads as read_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store import users as user_repo
from controller.store.schema import read_images

pytestmark = pytest.mark.browser

# Mean brightness of the left and right parts of a loaded image, by element id.
HALVES = """(id) => {
  const i = document.getElementById(id);
  if (!i || !i.complete || !i.naturalWidth) return null;
  const c = document.createElement('canvas');
  c.width = i.naturalWidth; c.height = i.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(i, 0, 0);
  const mean = (x0, x1) => {
    const d = g.getImageData(x0, 0, x1 - x0, Math.floor(c.height * 0.8)).data;
    let s = 0;
    for (let k = 0; k < d.length; k += 4) s += (d[k] + d[k + 1] + d[k + 2]) / 3;
    return s / (d.length / 4);
  };
  return [mean(0, Math.floor(c.width * 0.4)), mean(Math.floor(c.width * 0.6), c.width)];
}"""


def add_read(site: Site, camera: int, site_id: int, plate: str) -> str:
    """A read seen now, with its plate crop on disk."""
    read_uuid = str(uuid.uuid4())
    now = datetime.now(UTC)
    read_repo.insert_batch(site.engine, [{
        "uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": camera, "site_id": site_id,
        "seen_at": now, "direction": "NB", "created_at": now}])
    row = read_repo.get_by_uuid(site.engine, read_uuid)
    assert row is not None
    relative = f"images/{now:%Y/%m/%d}/{read_uuid}-crop.jpg"
    path = site.settings.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buffer = cv2.imencode(".jpg", np.full((40, 120, 3), 200, np.uint8))
    assert ok
    path.write_bytes(buffer.tobytes())
    with site.engine.begin() as conn:
        conn.execute(read_images.insert().values(read_id=row["id"], kind="crop", path=relative,
                                                 sha256="0" * 64, width=120, height=40))
    return read_uuid


def test_overview_live_at_both_widths(site: Site, page: Page, snapshot_url: str) -> None:
    engine = site.engine
    site_id = site_repo.create_site(engine, code="elm-1st", name="Elm St & 1st")
    camera = site_repo.create_camera(engine, site_id, {
        "name": "SB lane 2", "host": "127.0.0.1", "snapshot_uri": snapshot_url,
        "stream_uri": "rtsp://127.0.0.1:1/main"})
    region_repo.replace_regions(engine, camera, [
        {"id": None, "kind": "privacy_mask", "name": "Porch",
         "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}], changed_by="ada.admin")
    now = datetime.now(UTC)
    health_repo.upsert_health(engine, camera, {
        "state": "warning", "connected": True, "fps": 9.8, "clock_drift_seconds": None,
        "last_frame_at": now - timedelta(seconds=1), "alarms": [], "reconnects_last_hour": 7},
        now)
    policy_id = users.publish_policy(engine, version="462-2026", title="Policy 462",
                                     adopted_on=date(2026, 1, 2), text="ALPR policy",
                                     actor="chief")
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution="2026-14", actor="chief")
    site.user("ada.admin", "administrator")
    users.acknowledge_policy(engine, user=user_repo.get(engine, "ada.admin"),
                             policy_id=policy_id)
    first = add_read(site, camera, site_id, "7ABC123")

    site.login(page, "ada.admin")
    page.goto(f"{site.url}/")
    expect(page.locator("#recording")).to_contain_text("Recording")
    tile = page.locator(f"#camera-{camera}")
    expect(tile.locator(".cam-reconnects")).to_have_text("7")
    expect(tile.locator(".cam-unstable")).to_be_visible()
    # The still is the camera's, masked: the porch (left half) is black.
    page.wait_for_function(HALVES, arg=f"thumb-{camera}")
    left, right = page.evaluate(HALVES, f"thumb-{camera}")
    assert left < 20 and right > 230, (left, right)
    # No purpose window: a prompt, and no plate on the page.
    expect(page.locator("#reads-feed")).to_contain_text("State a purpose")
    assert "7ABC123" not in page.content()

    page.locator("#reads-feed").get_by_role("link", name="State a purpose").click()
    page.select_option("select[name=purpose]", "Stolen vehicle investigation")
    page.fill("input[name=case_number]", "26-004512")
    page.check("input[name=attest]")
    page.click("#purpose-form button[type=submit]")
    page.wait_for_url(f"{site.url}/")
    expect(page.locator("#reads-feed")).to_contain_text("7ABC123")
    page.wait_for_function(
        "(id) => { const i = document.getElementById(id); return i && i.naturalWidth > 0; }",
        arg=f"crop-{first}")

    # A new read arrives: the feed shows it without a reload, and the still shown before
    # is the same element (not fetched from the camera again).
    page.evaluate(f"document.getElementById('thumb-{camera}').dataset.marked = 'yes'")
    add_read(site, camera, site_id, "8XYZ999")
    expect(page.locator("#reads-feed")).to_contain_text("8XYZ999", timeout=30_000)
    assert page.evaluate(f"document.getElementById('thumb-{camera}').dataset.marked") == "yes"
    expect(page.locator("#overview-status")).to_contain_text("updated")
    site.shot(page, "overview")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/")
    expect(page.locator("#reads-feed")).to_contain_text("8XYZ999")
    # The charts are drawn with the page (counts, not live): both reads now.
    expect(page.locator("#chart-reads-hours")).to_contain_text("2 in all")
    for part in ("#overview-live", "#activity", f"#camera-{camera}", "#reads-feed"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, part
    page.locator("#chart-reads-days summary").click()
    expect(page.locator("#chart-reads-days table")).to_be_visible()
    site.shot(page, "overview-phone")
