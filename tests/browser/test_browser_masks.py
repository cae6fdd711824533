"""The mask editor in Debian's Chromium: a privacy mask removed waits for a second
administrator (462.7.1(1)); a camera without an ONVIF snapshot URI shows a picture from
its stream, masks burned in, at a phone's and a laptop's width (issue 16, point 4)."""

from __future__ import annotations

import pytest
from browser_helpers import Site
from playwright.sync_api import Browser, Page, expect

from controller.demo.world import free_port
from controller.store import audit as audit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo

pytestmark = pytest.mark.browser

# Mean brightness of the left and right parts of the editor's camera still.
STILL = """() => {
  const i = document.getElementById('snapshot');
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


# The editor's still as drawn: its natural size, the brightest pixel of its left and right
# parts, and the width it takes on the screen.
PICTURE = """() => {
  const i = document.getElementById('snapshot');
  if (!i || !i.complete || !i.naturalWidth) return null;
  const c = document.createElement('canvas');
  c.width = i.naturalWidth; c.height = i.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(i, 0, 0);
  const brightest = (x0, x1) => {
    const d = g.getImageData(x0, 0, x1 - x0, c.height).data;
    let m = 0;
    for (let k = 0; k < d.length; k += 4) m = Math.max(m, (d[k] + d[k + 1] + d[k + 2]) / 3);
    return m;
  };
  return {width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width,
          left: brightest(0, Math.floor(c.width * 0.45)),
          right: brightest(Math.floor(c.width * 0.55), c.width)};
}"""


def still(page: Page) -> tuple[float, float]:
    page.wait_for_function(STILL)
    left, right = page.evaluate(STILL)
    return float(left), float(right)


def test_mask_removal_waits_for_a_second_administrator(site: Site, page: Page,
                                                       browser: Browser,
                                                       snapshot_url: str) -> None:
    site_id = site_repo.create_site(site.engine, code="elm-1st", name="Elm St & 1st")
    camera = site_repo.create_camera(site.engine, site_id, {
        "name": "SB lane 2", "host": "127.0.0.1", "snapshot_uri": snapshot_url})
    region_repo.replace_regions(site.engine, camera, [
        {"id": None, "kind": "privacy_mask", "name": "Porch",
         "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}], changed_by="ada.admin")
    site.user("ada.admin", "administrator")
    site.user("bo.admin", "administrator")

    # Administrator A deletes the mask in the editor and saves.
    site.login(page, "ada.admin")
    page.goto(f"{site.url}/cameras/{camera}/regions")
    left, right = still(page)
    assert left < 20 and right > 230, (left, right)
    page.click("#region-list button.btn-danger")
    expect(page.locator("#region-list li")).to_have_count(0)
    page.click("#save")

    # The page shows the request pending; the mask is still listed and still black.
    expect(page.locator("#pending-requests")).to_contain_text("Porch: removal")
    expect(page.locator("#pending-requests")).to_contain_text("still in force")
    expect(page.locator("#region-list li")).to_have_count(1)
    left, right = still(page)
    assert left < 20 and right > 230, (left, right)
    site.shot(page, "40-mask-removal-pending")
    [request] = region_repo.list_requests(site.engine, pending_only=True)

    # A cannot approve their own request: the list offers them no Approve button.
    page.goto(f"{site.url}/masks/requests")
    row = page.locator(f"#request-{request['id']}")
    expect(row).to_contain_text("yours: a second administrator approves")
    expect(row.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    # Administrator B approves it.
    other = browser.new_context(viewport={"width": 1366, "height": 820})
    other.set_default_timeout(15_000)
    second = other.new_page()
    try:
        site.login(second, "bo.admin")
        second.goto(f"{site.url}/masks/requests")
        row = second.locator(f"#request-{request['id']}")
        # Approving lifts the mask: the browser asks first, and B accepts.
        asked: list[str] = []
        second.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        row.get_by_role("button", name="Approve", exact=True).click()
        expect(second.locator("body")).to_contain_text(
            f"Mask change {request['id']} approved and in force.")
        assert asked and "becomes readable" in asked[0]
        site.shot(second, "41-mask-removal-approved")
    finally:
        other.close()

    # Back in A's editor: the mask is gone from the list and from the still.
    page.goto(f"{site.url}/cameras/{camera}/regions")
    expect(page.locator("#pending-requests")).to_have_count(0)
    expect(page.locator("#region-list li")).to_have_count(0)
    left, right = still(page)
    assert left > 230 and right > 230, (left, right)
    expect(page.locator("#mask-history")).to_contain_text("bo.admin")


def test_editor_shows_a_stream_frame_without_a_snapshot_uri(site: Site, sized_page: Page,
                                                            width: int, stream_url: str) -> None:
    page = sized_page
    site_id = site_repo.create_site(site.engine, code="main-st", name="Main St")
    camera = site_repo.create_camera(site.engine, site_id, {"name": "NB lane 1",
                                                            "host": "127.0.0.1"})
    # Adopted without a snapshot URI: only the stream can show the scene.
    site_repo.update_camera(site.engine, camera, {"stream_uri": stream_url,
                                                  "snapshot_uri": None})
    region_repo.replace_regions(site.engine, camera, [
        {"id": None, "kind": "privacy_mask", "name": "Porch",
         "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}], changed_by="test")
    site.user("ops.admin", "administrator")
    site.login(page, "ops.admin")
    page.goto(f"{site.url}/cameras/{camera}/regions")
    # A stream grab on a loaded machine: a condition with room, not a pace.
    page.wait_for_function(PICTURE, timeout=60_000)
    picture = page.evaluate(PICTURE)
    assert (picture["width"], picture["height"]) == (1280, 720)  # the camera's main stream
    assert 0 < picture["shown"] <= width  # drawn, and within a phone's screen
    assert picture["left"] < 20, picture  # the privacy mask, burned in
    assert picture["right"] > 60, picture  # the scene itself
    expect(page.locator("#region-list li")).to_have_count(1)
    site.shot(page, f"16-4-mask-editor-stream-{width}")
    # Each still is logged (the overview's camera thumbnail is one too).
    logged = audit_repo.search(site.engine, action="camera.snapshot")
    assert logged and {(e["actor"], e["outcome"]) for e in logged} == {("ops.admin", "allowed")}


def test_editor_says_why_a_still_did_not_come_and_asks_again(site: Site, page: Page,
                                                            stream_url: str) -> None:
    site_id = site_repo.create_site(site.engine, code="oak-2nd", name="Oak & 2nd")
    camera = site_repo.create_camera(site.engine, site_id, {"name": "EB lane 1",
                                                            "host": "127.0.0.1"})
    # No snapshot URI, and nothing listens where the stream should be.
    site_repo.update_camera(site.engine, camera, {
        "stream_uri": f"rtsp://127.0.0.1:{free_port()}/video_main", "snapshot_uri": None})
    site.user("ops.admin", "administrator")
    site.login(page, "ops.admin")
    page.goto(f"{site.url}/cameras/{camera}/regions")
    failure = page.locator("#snapshot-failure")
    expect(failure).to_be_visible(timeout=30_000)
    expect(failure).to_contain_text("No picture from the camera")
    expect(failure).to_contain_text("stream failed")  # the server's reason, not a blank box
    assert page.evaluate(PICTURE) is None
    # The camera's stream comes back: asked again, the editor shows its picture.
    site_repo.update_camera(site.engine, camera, {"stream_uri": stream_url})
    page.click("#snapshot-retry")
    page.wait_for_function(PICTURE, timeout=60_000)
    expect(failure).to_be_hidden()
    assert page.evaluate(PICTURE)["width"] == 1280
