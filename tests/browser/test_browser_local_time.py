"""Local time in Debian's Chromium at a phone's and a laptop's width (issue 16, point 5).

The agency's zone is America/Los_Angeles. A time a page shows (a read in the results
and on its page, an alert in the queue, an entry of the access log) is the stored
UTC instant in that zone, with the zone named; a time typed in the search's From/To
is wall-clock time there, and so is a day in a filter. Two reads of one plate eight
hours apart make the two readings of what is typed differ: 06:00-06:10 in Los Angeles
finds the read at 14:05 UTC, while the same numbers read as UTC would find the one at
06:05 UTC; 19 November in Los Angeles holds the second, in UTC neither. The expected
texts come from the standard library's zone data, not from the application.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alert_sightings import camera, sight
from browser_helpers import Site
from playwright.sync_api import Download, Page, expect

from controller import audit
from controller.accounts import Caller
from controller.compliance import agency
from controller.store import audit as audit_repo

pytestmark = pytest.mark.browser

LA = ZoneInfo("America/Los_Angeles")
MORNING = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)  # 06:05 in Los Angeles, 20 November
NIGHT = datetime(2026, 11, 20, 6, 5, tzinfo=UTC)     # 22:05 in Los Angeles, 19 November
# Two entries of the access log either side of 20 November's start in Los Angeles
# (08:00 UTC): both on the 20th in UTC, on the 19th and the 20th in Los Angeles.
LOGGED = (datetime(2026, 11, 20, 2, 0, tzinfo=UTC), datetime(2026, 11, 20, 10, 0, tzinfo=UTC))


def shown(at: datetime) -> str:
    """How a stored UTC instant reads in Los Angeles, zone named (standard library)."""
    return at.astimezone(LA).strftime("%Y-%m-%d %H:%M:%S %Z")


def _search(page: Page, site: Site, since: str, until: str) -> None:
    page.goto(f"{site.url}/search")
    page.fill("input[name=plate]", "7ABC123")
    page.fill("input[name=since]", since)
    page.fill("input[name=until]", until)
    page.click("#search-form button[type=submit]")


def _csv_ids(download: Download, folder: Path) -> list[str]:
    path = folder / download.suggested_filename
    download.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [line.split(",", 1)[0] for line in lines[1:]]


def test_times_are_shown_and_typed_in_the_agency_zone(site: Site, sized_page: Page,
                                                      width: int, tmp_path: Path) -> None:
    page = sized_page
    # The log is in time order: the backdated entries go in before anything else.
    logged = [audit.record(site.engine, audit.AuditEvent(
        actor="kim.park", action="read.view", plate="7ABC123",
        purpose="Stolen vehicle investigation", case_number=f"26-00{n}"), at=at)
        for n, at in enumerate(LOGGED)]
    cam = camera(site.engine)
    sight(site.engine, site.settings.data_dir, cam, "7ABC123", MORNING)
    sight(site.engine, site.settings.data_dir, cam, "7ABC123", NIGHT)
    agency.update_profile(site.engine, site.settings,
                          Caller("chief.ray", "administrator", None, gate_ok=True),
                          name="Harrow Police Department", zone="America/Los_Angeles")
    site.user("chief.ray", "administrator")
    site.login(page, "chief.ray")
    site.state_purpose(page, "/search")

    # A window typed in Los Angeles time finds the read made then, and only that one.
    expect(page.locator("#search-form")).to_contain_text("From (America/Los_Angeles)")
    _search(page, site, "2026-11-20T06:00", "2026-11-20T06:10")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(shown(MORNING))  # "2026-11-20 06:05:00 PST"
    expect(page.locator("#results thead")).to_contain_text("Time (America/Los_Angeles)")
    site.shot(page, f"16-5-search-local-{width}")
    # The evening before, in Los Angeles: the other read (06:05 UTC), and only that one.
    _search(page, site, "2026-11-19T22:00", "2026-11-19T22:10")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(shown(NIGHT))    # "2026-11-19 22:05:00 PST"
    # The read's own page names the zone too.
    rows.first.locator("a.plate").click()
    expect(page.locator("dt:text-is('Seen') + dd")).to_have_text(shown(NIGHT))

    # Both passages raised an alert; the dispatch queue shows when, and its days are Los
    # Angeles days: 19 November holds the evening's alert alone (in UTC both are the 20th).
    page.goto(f"{site.url}/hits")
    alerts = page.locator("#hit-queue tr[data-plate='7ABC123']")
    expect(alerts).to_have_count(2)
    expect(alerts.nth(0)).to_contain_text(shown(MORNING))  # newest first
    expect(alerts.nth(1)).to_contain_text(shown(NIGHT))
    expect(page.locator("#hit-queue thead")).to_contain_text("Last seen (America/Los_Angeles)")
    page.fill("#alert-filters input[name=a_since]", "2026-11-19")
    page.fill("#alert-filters input[name=a_until]", "2026-11-19")
    page.click("#alert-filters button[type=submit]")
    expect(alerts).to_have_count(1)
    expect(alerts.first).to_contain_text(shown(NIGHT))
    site.shot(page, f"16-5-alerts-local-{width}")

    # The access log: times in Los Angeles; a day is a Los Angeles day, on the page and
    # in the CSV of the page's filter.
    page.goto(f"{site.url}/audit")
    page.fill("#audit-filters input[name=since]", "2026-11-19")
    page.fill("#audit-filters input[name=until]", "2026-11-19")
    page.click("#audit-filters button[type=submit]")
    entries = page.locator("#audit-rows tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text(shown(LOGGED[0]))  # "2026-11-19 18:00:00 PST"
    expect(entries.first.locator("td").first).to_have_text(str(logged[0]))
    expect(page.locator("#audit-rows thead")).to_contain_text("Time (America/Los_Angeles)")
    site.shot(page, f"16-5-audit-local-{width}")
    with page.expect_download() as waiting:
        page.click("#audit-csv")
    assert _csv_ids(waiting.value, tmp_path) == [str(logged[0])]
    stored = [e["at"] for e in audit_repo.search(site.engine, actor="kim.park")]
    assert sorted(stored) == list(LOGGED)  # stored in UTC, as recorded
