"""The purpose prompt in Debian's Chromium (462.5): asked once, then the read, logged with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from browser_helpers import Site
from playwright.sync_api import Page, expect

from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo

pytestmark = pytest.mark.browser


def _read(site: Site) -> str:
    site_id = site_repo.create_site(site.engine, code="oak-2nd", name="Oak St & 2nd Ave")
    camera = site_repo.create_camera(site.engine, site_id, {"name": "EB lane 1",
                                                            "host": "127.0.0.1"})
    read_uuid = str(uuid.uuid4())
    seen = datetime(2026, 11, 21, 9, 40, tzinfo=UTC)
    read_repo.insert_batch(site.engine, [{
        "uuid": read_uuid, "plate": "5KLM808", "raw_text": "5KLM808", "confidence": 0.93,
        "char_confidences": [0.93] * 7, "camera_id": camera, "site_id": site_id,
        "seen_at": seen, "direction": "EB", "created_at": seen}])
    return read_uuid


def test_a_read_asks_for_the_purpose_once_and_logs_it(site: Site, page: Page) -> None:
    read_uuid = _read(site)
    site.user("ann.lee", "officer")
    site.login(page, "ann.lee")
    page.goto(f"{site.url}/reads/{read_uuid}")
    # No purpose stated yet: the form, which brings the officer back to the read.
    expect(page).to_have_url(f"{site.url}/purpose?next=/reads/{read_uuid}")
    expect(page.locator("h1")).to_contain_text("Purpose of this work")
    page.fill("input[name=case_number]", "26-004512")
    page.check("input[name=attest]")
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("#purpose-error")).to_contain_text("Purpose: choose the purpose")
    page.select_option("select[name=purpose]", "Missing person")
    page.check("input[name=attest]")
    site.shot(page, "11-purpose-form")
    page.click("#purpose-form button[type=submit]")
    expect(page).to_have_url(f"{site.url}/reads/{read_uuid}")
    expect(page.locator("main")).to_contain_text("5KLM808")
    expect(page.locator("#purpose-chip")).to_contain_text("Missing person · 26-004512")
    site.shot(page, "12-read-under-purpose")
    entry = audit_repo.search(site.engine, action="read.view")[0]
    assert (entry["actor"], entry["plate"], entry["purpose"], entry["case_number"]) == (
        "ann.lee", "5KLM808", "Missing person", "26-004512")
    assert entry["data"]["results"] == 1
    # The next read in the same piece of work asks nothing.
    page.reload()
    expect(page).to_have_url(f"{site.url}/reads/{read_uuid}")
    stated = audit_repo.search(site.engine, action="purpose.state")
    assert [e["outcome"] for e in stated] == ["allowed", "denied"]  # newest first
    assert len(audit_repo.search(site.engine, action="read.view")) == 2
