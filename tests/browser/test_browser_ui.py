"""The admin application in Debian's Chromium against the real controller on loopback."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from browser_helpers import Site
from playwright.sync_api import Page, Route, expect
from shared_peers import write_video

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo

pytestmark = pytest.mark.browser

PIXELS = """() => {
  const v = document.getElementById('live-video');
  if (!v || v.readyState < 2 || !v.videoWidth || v.currentTime <= 0) return null;
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const mean = (x0, x1) => {
    const d = g.getImageData(x0, 0, x1 - x0, Math.floor(c.height * 0.8)).data;
    let s = 0;
    for (let i = 0; i < d.length; i += 4) s += (d[i] + d[i + 1] + d[i + 2]) / 3;
    return s / (d.length / 4);
  };
  return [mean(0, Math.floor(c.width * 0.4)), mean(Math.floor(c.width * 0.6), c.width)];
}"""


def test_login_with_totp_lockout_and_csrf(site: Site, page: Page) -> None:
    site.user("ann.lee", "officer")
    page.goto(f"{site.url}/search")
    expect(page).to_have_url(f"{site.url}/login?next=/search")
    expect(page.locator("#system-use-notice")).to_contain_text("monitored and recorded")
    site.shot(page, "01-login-banner")
    # A form posted without its token is refused.
    status = page.evaluate("""async () => (await fetch('/login', {method: 'POST', body:
        new URLSearchParams({username: 'ann.lee', password: 'x', banner_ack: 'yes'})})).status""")
    assert status == 400
    site.login(page, "ann.lee")
    expect(page).to_have_url(f"{site.url}/")
    site.shot(page, "01b-home")
    expect(page.locator(".whoami")).to_contain_text("ann.lee")
    page.click("text=Sign out")
    expect(page.locator(".flash")).to_contain_text("signed out")

    for attempt in range(5):
        page.fill("input[name=username]", "ann.lee")
        page.fill("input[name=password]", f"wrong-guess-{attempt}")
        page.check("input[name=banner_ack]")
        page.click("button[type=submit]")
        expect(page.locator(".flash-error")).to_contain_text("wrong username or password")
    page.fill("input[name=username]", "ann.lee")
    page.fill("input[name=password]", "Correct-Horse-Battery-9")
    page.check("input[name=banner_ack]")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("account locked after 5 failed attempts")
    site.shot(page, "02-lockout")
    assert audit_repo.search(site.engine, action="login.lockout")[0]["actor"] == "ann.lee"


def test_untrained_user_is_refused(site: Site, page: Page) -> None:
    site.user("new.hire", "analyst", trained=False)
    site.login(page, "new.hire")
    expect(page).to_have_url(f"{site.url}/access")
    expect(page.locator(".missing-training")).to_contain_text("No ALPR training is recorded")
    response = page.goto(f"{site.url}/search")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("cannot use ALPR data")
    site.shot(page, "03-training-refused")


def _images(site: Site, read_uuid: str) -> list[dict[str, object]]:
    """A rendered plate crop and overview, stored as the writer stores them."""
    crop = np.full((60, 200, 3), 235, np.uint8)
    cv2.rectangle(crop, (2, 2), (197, 57), (60, 60, 60), 2)
    cv2.putText(crop, "7ABC123", (14, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (90, 40, 20), 3)
    overview = np.full((360, 640, 3), 70, np.uint8)
    cv2.rectangle(overview, (220, 150), (440, 300), (120, 110, 100), -1)
    overview[250:280, 280:380] = cv2.resize(crop, (100, 30))
    rows = []
    for kind, image in (("crop", crop), ("overview", overview)):
        relative = f"images/2026/11/20/{read_uuid}-{kind}.jpg"
        path = site.settings.data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        ok, buf = cv2.imencode(".jpg", image)
        assert ok
        path.write_bytes(buf.tobytes())
        rows.append({"kind": kind, "path": relative, "width": image.shape[1],
                     "height": image.shape[0],
                     "sha256": hashlib.sha256(buf.tobytes()).hexdigest()})
    return rows


def _reads(site: Site) -> int:
    site_id = site_repo.create_site(site.engine, code="main-5th", name="Main St & 5th Ave",
                                    latitude=34.05, longitude=-118.25)
    camera = site_repo.create_camera(site.engine, site_id, {"name": "NB lane 1",
                                                            "host": "127.0.0.1"})
    seen = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    hit_uuid, read_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    hit_repo.write_reads(site.engine, [{
        "images": _images(site, read_uuid),
        "read": {"uuid": read_uuid, "plate": "7ABC123", "raw_text": "7ABC123",
                 "confidence": 0.96, "char_confidences": [0.96] * 7, "camera_id": camera,
                 "site_id": site_id, "seen_at": seen, "direction": "NB", "created_at": seen},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": "7ABC123",
                                              "match": "exact", "category": "stolen_vehicle",
                                              "reason": "Stolen 2026-11-18"}}],
    }], sinks=[], now=seen)
    return camera


def test_search_needs_a_purpose_and_is_audited(site: Site, page: Page, browser) -> None:
    _reads(site)
    site.user("ann.lee", "officer")
    site.login(page, "ann.lee")
    page.goto(f"{site.url}/search")
    page.fill("input[name=plate]", "7abc123")
    page.fill("input[name=case_number]", "26-004512")
    page.check("input[name=attest]")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#search-error")).to_contain_text("Purpose: choose the purpose")
    page.select_option("select[name=purpose]", "Stolen vehicle investigation")
    page.check("input[name=attest]")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results")).to_contain_text("7ABC123")
    expect(page.locator("#results")).to_contain_text("NB lane 1")
    expect(page.locator("#results img.thumb-crop")).to_have_js_property("naturalWidth", 200)
    site.shot(page, "04-search-results")
    page.click("#results a.plate")
    expect(page.locator(".detail-overview")).to_have_js_property("naturalWidth", 640)
    site.shot(page, "04b-read-detail")
    assert [r["outcome"] for r in audit_repo.search(site.engine, action="image.view")] == [
        "allowed", "allowed"]

    site.user("chief.ray", "administrator")
    admin = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    site.login(admin, "chief.ray")
    admin.goto(f"{site.url}/audit?action=search.exact")
    # The access log names plates: the administrator states the audit as the purpose.
    expect(admin).to_have_url(f"{site.url}/purpose?next=/audit?action%3Dsearch.exact")
    admin.select_option("select[name=purpose]", "Audit of system use (462.6)")
    admin.fill("input[name=case_number]", "2026Q4")
    admin.check("input[name=attest]")
    admin.click("#purpose-form button[type=submit]")
    expect(admin).to_have_url(f"{site.url}/audit?action=search.exact")
    rows = admin.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Stolen vehicle investigation")
    expect(rows.nth(0)).to_contain_text("26-004512")
    expect(rows.nth(0)).to_contain_text("allowed")
    expect(rows.nth(1)).to_contain_text("denied")
    expect(admin.locator("#chain-status")).to_contain_text("Hash chain intact")
    site.shot(admin, "05-audit-log")
    admin.goto(f"{site.url}/admin/users")
    site.shot(admin, "06-users")
    admin.goto(f"{site.url}/hotlists")
    site.shot(admin, "07-hotlists")
    admin.context.close()


class HeldPictures:
    """Pictures whose requests the browser sent and the test answers only when it says."""

    def __init__(self, page: Page, pattern: str) -> None:
        self.page, self.routes = page, list[Route]()
        page.route(pattern, self._hold)

    def _hold(self, route: Route) -> None:  # Playwright takes a function, not a builtin
        self.routes.append(route)

    def kinds(self, count: int) -> list[str]:
        """The kinds of picture asked for, once ``count`` requests are held."""
        for _ in range(200):
            if len(self.routes) >= count:
                break
            self.page.wait_for_timeout(25)
        return sorted(r.request.url.rsplit("/", 1)[1].split("?")[0] for r in self.routes)

    def let_go(self, *loaded: str) -> None:
        """Answer every held request and wait until the pictures ``loaded`` are drawn."""
        for route in self.routes:
            route.continue_()
        self.page.unroute_all()
        for selector in loaded:
            expect(self.page.locator(selector)).to_have_js_property("complete", True)
            assert self.page.locator(selector).evaluate("i => i.naturalWidth") > 0
        self.page.evaluate("() => new Promise(requestAnimationFrame)")


def styled(page: Page) -> None:
    """Wait until the page's style sheets are applied and a frame drawn with them: a box
    taken before that is where an unstyled page would put it, which no one ever sees
    (a style sheet in the head holds the first paint back; CI of stop 36 measured the
    read page's heading at the body's bare margin, then again styled, 340 px lower)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet)"
        " && document.fonts.status === 'loaded'")
    page.evaluate("() => new Promise(requestAnimationFrame)")


def test_pages_keep_their_place_while_their_pictures_arrive(site: Site, sized_page: Page,
                                                            width: int) -> None:
    """What a user clicks is where it was before the pictures came, on a phone's and a
    laptop's screen: a click aimed at it as the page loads lands on it (CI of stop 34
    clicked a result's plate at 390 px as its thumbnails came in; the column moved 60 px
    and the click fell beside the link)."""
    page = sized_page
    _reads(site)
    site.user("ann.lee", "officer")
    site.login(page, "ann.lee")
    site.state_purpose(page, "/search")
    thumbs = HeldPictures(page, "**/thumb/**")
    page.fill("input[name=plate]", "7ABC123")
    page.click("#search-form button[type=submit]")
    link = page.locator("#results a.plate")
    expect(link).to_have_text("7ABC123")
    assert thumbs.kinds(2) == ["crop", "overview"]
    styled(page)
    waiting = link.bounding_box()
    thumbs.let_go("#results img.thumb-crop", "#results img.thumb-overview")
    assert link.bounding_box() == waiting

    # The read's own page: what follows its pictures stays where it was drawn first.
    images = HeldPictures(page, "**/image/**")
    link.click()
    below = page.locator("#read-corrections h2")
    expect(below).to_have_text("Corrections and annotations")
    assert images.kinds(2) == ["crop", "overview"]
    styled(page)
    waiting = below.bounding_box()
    images.let_go(".detail-crop", ".detail-overview")
    assert below.bounding_box() == waiting


def test_hit_verified_by_dispatch(site: Site, page: Page) -> None:
    _reads(site)
    site.user("dee.ortiz", "dispatcher")
    site.login(page, "dee.ortiz")
    page.goto(f"{site.url}/hits")
    expect(page).to_have_url(f"{site.url}/purpose?next=/hits")
    page.select_option("select[name=purpose]", "Hit verification through CLETS (462.7(7))")
    page.fill("input[name=case_number]", "CAD 26-1187")
    page.check("input[name=attest]")
    page.click("#purpose-form button[type=submit]")
    expect(page).to_have_url(f"{site.url}/hits")
    expect(page.locator(".unverified-banner")).to_contain_text("UNVERIFIED")
    expect(page.locator("#hit-queue")).to_contain_text("7ABC123")
    site.shot(page, "08-hits-queue")
    page.click("#hit-queue >> text=Open")  # the hit's alert (one per plate per passage)
    expect(page.locator("#alert-state")).to_have_text("New")
    page.check("input[value=confirmed]")
    page.fill("textarea[name=note]", "CLETS 4471, stolen confirmed")
    site.shot(page, "09-hit-detail")
    page.click("#verify-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Confirmed through CLETS")
    expect(page.locator("#hit-queue")).to_contain_text("No alerts match")
    expect(page.locator("#hit-history")).to_contain_text("dee.ortiz")
    row = hit_repo.list_hits(site.engine)[0]
    assert (row["verification"], row["verified_by"]) == ("confirmed", "dee.ortiz")


def test_mask_drawn_is_black_over_webrtc(site: Site, page: Page, snapshot_url: str,
                                         tmp_path: Path) -> None:
    video = write_video(tmp_path / "camera.mp4")
    site_id = site_repo.create_site(site.engine, code="elm-1st", name="Elm St & 1st")
    camera = site_repo.create_camera(site.engine, site_id, {
        "name": "SB lane 2", "host": "127.0.0.1", "stream_uri": str(video),
        "snapshot_uri": snapshot_url})
    site.user("ops.chief", "administrator")
    site.login(page, "ops.chief")
    page.goto(f"{site.url}/cameras")
    site.shot(page, "10-cameras")
    page.goto(f"{site.url}/cameras/{camera}/regions")
    expect(page.locator("#snapshot")).to_have_js_property("complete", True)
    page.click("#new-mask")
    box = page.locator("#overlay").bounding_box()
    assert box is not None
    for fx, fy in [(0.01, 0.01), (0.5, 0.01), (0.5, 0.99), (0.01, 0.99)]:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.click("#finish")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved 1 region(s).")
    site.shot(page, "11-mask-editor")
    saved = region_repo.list_regions(site.engine, camera)
    assert [r["kind"] for r in saved] == ["privacy_mask"]
    assert max(x for x, _ in saved[0]["polygon"]) == pytest.approx(0.5, abs=0.01)
    assert audit_repo.search(site.engine, action="camera.regions")[0]["data"]["before"] == []

    # Live video shows plates: the administrator states a purpose first (462.5).
    site.state_purpose(page, f"/live/{camera}", "Audit of system use (462.6)")
    expect(page.locator("#live-status")).to_have_text("live", timeout=20_000)
    page.wait_for_function(PIXELS, timeout=20_000)
    left, right = page.evaluate(PIXELS)
    assert left < 20, left      # the drawn mask is black in the received frame
    assert right > 230, right   # the unmasked part of the scene is not
    site.shot(page, "12-live-view")
