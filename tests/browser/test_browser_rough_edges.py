"""Issue 16, point 7's rough edges in Debian's Chromium at a phone's and a laptop's width.

The policy reads as a document (headings, lists, the HTML in its source shown as
text); a destructive action is not done without its confirmation and is done with
it (an "I confirm" box, and a confirm() dialog); a site is edited and disabled, a
hand-entered hotlist's entry ended and another brought forward in local time, the
list disabled, all through the pages; the access log pages on (older, newer) and
filters by an action's readable name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alert_sightings import camera, sight
from browser_helpers import Site, open_page
from playwright.sync_api import Browser, Dialog, Page, expect

from controller import audit
from controller.accounts import Caller
from controller.bridge import ignore_change
from controller.compliance import agency
from controller.operations import masks
from controller.store import hits as hit_repo
from controller.store import holds as hold_repo
from controller.store import hotlists as hotlist_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store import users as user_repo

pytestmark = pytest.mark.browser

POLICY = """# Automated License Plate Readers

## Retention

Reads are kept for **two years**, then purged.

## Who may search

- trained officers
- trained analysts

<script>alert('policy')</script> and <b>not bold</b> stay text.
"""
LA = ZoneInfo("America/Los_Angeles")
READ_VIEWS = 130  # more than one page of the access log (100 a page)


def test_policy_is_rendered_as_a_document(site: Site, sized_page: Page, browser: Browser,
                                          width: int, tmp_path: Path) -> None:
    page = sized_page
    source = tmp_path / "alpr-policy.md"
    source.write_text(POLICY, encoding="utf-8")
    site.user("chief.ray", "administrator")
    site.login(page, "chief.ray")
    page.goto(f"{site.url}/compliance/policy")
    form = page.locator("#policy-form")
    form.locator("input[name=version]").fill("462-2026.2")
    form.locator("input[name=title]").fill("ALPR policy 462")
    form.locator("input[name=adopted_on]").fill("2026-11-02")
    form.locator("input[name=file]").set_input_files(str(source))
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Policy version 462-2026.2 published")

    dialogs: list[str] = []
    with open_page(browser, width) as public:
        public.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        public.goto(f"{site.url}/transparency")
        document = public.locator("#policy-document")
        expect(document.get_by_role("heading", name="Retention", level=2)).to_be_visible()
        expect(document.get_by_role("heading", name="Who may search", level=2)).to_be_visible()
        expect(document.locator("li")).to_have_text(["trained officers", "trained analysts"])
        expect(document.locator("strong")).to_have_text("two years")
        # The HTML typed in the source is shown as text: no script ran, nothing is bold.
        expect(document).to_contain_text("<script>alert('policy')</script> and <b>not bold</b>")
        expect(document.locator("b, script")).to_have_count(0)
        text = document.inner_text()
        for marker in ("# ", "**", "- trained"):
            assert marker not in text, marker
        site.shot(public, f"16-7-policy-document-{width}")
    assert dialogs == []


def _hold(site: Site, page: Page) -> int:
    """A hold placed by the officer on the page, through the holds page."""
    hit = sight(site.engine, site.settings.data_dir, camera(site.engine), "7ABC123",
                datetime(2026, 11, 20, 14, 5, tzinfo=UTC))[0]
    site.state_purpose(page, "/holds")
    page.fill("#hold-form input[name=case_number]", "26-004512")
    page.fill("#hold-form input[name=reason]", "suspect vehicle, robbery")
    page.fill("#hold-form textarea[name=read_uuids]",
              str(hit_repo.get_hit(site.engine, hit)["read_uuid"]))
    page.click("#hold-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("placed")
    [hold] = hold_repo.list_holds(site.engine)
    return int(hold["id"])


def test_destructive_actions_wait_for_confirmation(site: Site, sized_page: Page,
                                                   width: int) -> None:
    page = sized_page
    site.user("ann.lee", "officer")
    site.login(page, "ann.lee")
    hold_id = _hold(site, page)
    row = page.locator(f"#hold-{hold_id}")
    release = row.get_by_role("button", name="Release")
    box = row.locator("input[name=confirm]")

    # Unticked, the browser does not send the form: it asks for the box.
    release.click()
    assert box.evaluate("(b) => b.validity.valueMissing") is True
    expect(row).to_contain_text("held")
    assert hold_repo.get_hold(site.engine, hold_id)["released_at"] is None
    # A browser that sends it anyway (no form validation) is refused, in plain words.
    box.evaluate("(b) => b.removeAttribute('required')")
    release.click()
    expect(page.locator("#error")).to_contain_text("Confirmation: tick 'I confirm'")
    assert hold_repo.get_hold(site.engine, hold_id)["released_at"] is None
    site.shot(page, f"16-7-release-refused-{width}")
    # Ticked: released.
    page.locator(f"#hold-{hold_id} input[name=confirm]").check()
    page.locator(f"#hold-{hold_id}").get_by_role("button", name="Release").click()
    expect(page.locator(".flash")).to_contain_text(f"Hold {hold_id} released.")
    expect(page.locator(f"#hold-{hold_id}")).to_contain_text("released")
    assert hold_repo.get_hold(site.engine, hold_id)["released_at"] is not None


def test_mask_withdrawal_asks_first(site: Site, sized_page: Page, width: int) -> None:
    page = sized_page
    site_id = site_repo.create_site(site.engine, code="elm-1st", name="Elm St & 1st")
    camera = site_repo.create_camera(site.engine, site_id, {"name": "SB 2", "host": "127.0.0.1"})
    region_repo.replace_regions(site.engine, camera, [
        {"id": None, "kind": "privacy_mask", "name": "Porch",
         "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}], changed_by="test")
    site.user("ada.admin", "administrator")
    ada = Caller("ada.admin", "administrator", int(user_repo.get(site.engine, "ada.admin")["id"]),
                 gate_ok=True)
    # Ada asks for the mask's removal (no camera runs here: nothing to tell).
    saved = masks.save_regions(site.engine, ada, camera, {"regions": []}, notify=ignore_change)
    request_id = int(saved["request_id"] or 0)
    site.login(page, "ada.admin")
    page.goto(f"{site.url}/masks/requests")
    row = page.locator(f"#request-{request_id}")
    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Dialog], None]:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()
        return handle

    # Cancelled in the dialog: nothing is sent, the request still waits.
    page.once("dialog", answer(False))
    row.get_by_role("button", name="Withdraw").click()
    expect(row).to_be_visible()
    assert asked == ["Withdraw this mask change request?"]
    assert region_repo.get_request(site.engine, request_id)["status"] == "pending"
    # Accepted: withdrawn; the mask stays in force.
    page.once("dialog", answer(True))
    row.get_by_role("button", name="Withdraw").click()
    expect(page.locator(".flash")).to_contain_text(f"Mask change {request_id} withdrawn.")
    expect(page.locator(f"#request-{request_id}")).to_have_count(0)
    assert len(asked) == 2
    assert region_repo.get_request(site.engine, request_id)["status"] == "withdrawn"
    assert [r["name"] for r in region_repo.list_regions(site.engine, camera)] == ["Porch"]
    site.shot(page, f"16-7-mask-withdrawn-{width}")


def _hand_list(site: Site, expires: datetime) -> None:
    """burglary-26, entered by hand by an analyst and approved by another administrator."""
    now = datetime.now(UTC)
    entries = [{"plate": plate, "is_partial": False, "plate_state": "CA",
                "category": "stolen_vehicle", "reason": reason, "ncic_number": None,
                "ori": None, "entered_at": now, "expires_at": expires, "alert_note": None}
               for plate, reason in (("7ABC123", "burglary 1"), ("8XYZ999", "burglary 2"))]
    version = hotlist_repo.add_version(site.engine, "burglary-26", entries, actor="ann.lee",
                                       now=now, official=False, digest="1" * 64,
                                       case_number="26-004512", reason="burglary series",
                                       expires_at=expires)
    hotlist_repo.decide_version(site.engine, version["id"], approve=True, actor="bo.admin",
                                now=now, note="checked against the case file")


def test_site_and_hotlist_edits_in_the_browser(site: Site, sized_page: Page,
                                               width: int) -> None:
    page = sized_page
    site_id = site_repo.create_site(site.engine, code="main-5th", name="Main St")
    site_repo.create_camera(site.engine, site_id, {"name": "NB 1", "host": "127.0.0.1"})
    agency.update_profile(site.engine, site.settings,
                          Caller("chief.ray", "administrator", None, gate_ok=True),
                          name="Harrow Police Department", zone="America/Los_Angeles")
    _hand_list(site, datetime.now(UTC) + timedelta(days=60))
    site.user("chief.ray", "administrator")
    site.login(page, "chief.ray")

    # The site: renamed, then disabled (its cameras stop).
    page.goto(f"{site.url}/cameras")
    card = page.locator("#site-main-5th")
    card.locator("summary").click()
    card.locator("input[name=name]").fill("Main St & 5th Ave")
    card.locator("input[name=address]").fill("500 Main St")
    card.get_by_role("button", name="Save site").click()
    expect(page.locator("#site-main-5th h2")).to_contain_text("Main St & 5th Ave")
    page.locator("#site-main-5th summary").click()
    page.locator("#site-main-5th input[name=confirm]").check()
    page.locator("#site-main-5th").get_by_role("button", name="Disable site").click()
    expect(page.locator("#site-main-5th h2")).to_contain_text("disabled: cameras stopped")
    assert site_repo.list_cameras(site.engine, enabled_only=True) == []
    site.shot(page, f"16-7-site-disabled-{width}")

    # An entry ended; another brought forward to a time typed in Los Angeles time.
    site.state_purpose(page, "/hotlists/burglary-26")
    form = page.locator("#entry-change-form")
    expect(form).to_contain_text("New expiry (America/Los_Angeles")
    form.locator("select[name=entry_id]").select_option(label="8XYZ999 · burglary 2")
    form.locator("input[name=case_number]").fill("26-004512")
    form.locator("input[name=reason]").fill("vehicle recovered")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Version 2 of burglary-26 is in force.")
    expect(page.locator("#entries tbody tr")).to_have_count(1)
    expect(page.locator("#entries")).not_to_contain_text("8XYZ999")
    sooner = (datetime.now(LA) + timedelta(days=10)).replace(hour=18, minute=0, second=0,
                                                             microsecond=0)
    form = page.locator("#entry-change-form")
    form.locator("select[name=entry_id]").select_option(label="7ABC123 · burglary 1")
    form.locator("input[name=expires_at]").fill(sooner.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=case_number]").fill("26-004512")
    form.locator("input[name=reason]").fill("warrant ends then")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Version 3 of burglary-26 is in force.")
    expect(page.locator("#entries tbody tr").first).to_contain_text(
        sooner.strftime("%Y-%m-%d %H:%M %Z"))
    [entry] = hotlist_repo.list_entries(site.engine, "burglary-26")
    assert entry["expires_at"] == sooner.astimezone(UTC)  # typed in Los Angeles, kept in UTC
    site.shot(page, f"16-7-entry-changed-{width}")

    # The list disabled: kept, but raising no hits.
    page.goto(f"{site.url}/hotlists")
    row = page.locator("#hotlists tbody tr", has_text="burglary-26")
    row.locator("input[name=confirm]").check()
    row.get_by_role("button", name="Disable").click()
    expect(page.locator(".flash")).to_contain_text("burglary-26 disabled.")
    expect(page.locator("#hotlists tbody tr", has_text="burglary-26")).to_contain_text("disabled")
    assert [e["plate"] for e in hotlist_repo.active_entries(site.engine)] == []
    assert len(hotlist_repo.list_entries(site.engine, "burglary-26")) == 1


def test_audit_log_pages_and_filters_by_readable_action(site: Site, sized_page: Page,
                                                        width: int) -> None:
    page = sized_page
    for n in range(READ_VIEWS):
        audit.record(site.engine, audit.AuditEvent(
            actor="kim.park", action="read.view", plate="7ABC123",
            purpose="Stolen vehicle investigation", case_number=f"26-{n:06d}"))
    site.user("chief.ray", "administrator")
    site.login(page, "chief.ray")
    site.state_purpose(page, "/audit", "Audit of system use (462.6)", "2026Q4")
    page.select_option("#audit-filters select[name=action]", label="Read viewed")
    page.click("#audit-filters button[type=submit]")
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(100)
    first_page = [t.strip() for t in rows.locator("td:first-child").all_inner_texts()]
    expect(page.locator("#page-newer")).to_have_count(0)  # the newest page
    site.shot(page, f"16-7-audit-paged-{width}")

    page.click("#page-older")
    expect(rows).to_have_count(READ_VIEWS - 100)
    older = [t.strip() for t in rows.locator("td:first-child").all_inner_texts()]
    assert min(int(i) for i in first_page) > max(int(i) for i in older)
    assert len(set(first_page) | set(older)) == READ_VIEWS  # every entry, once
    expect(page.locator("#page-older")).to_have_count(0)  # the oldest page
    for cell in rows.locator("td:nth-child(4)").all_inner_texts():
        assert cell.startswith("Read viewed"), cell

    page.click("#page-newer")
    expect(rows).to_have_count(100)
    assert [t.strip() for t in rows.locator("td:first-child").all_inner_texts()] == first_page
    expect(page.locator("#audit-filters select[name=action] option:checked")).to_have_text(
        "Read viewed")
