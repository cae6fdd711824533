"""Hotlist governance in a real browser: a list entered by hand waits for a second
administrator, then the plate's history shows who listed it and who approved it."""

from __future__ import annotations

from pathlib import Path

from browser_helpers import Site
from playwright.sync_api import Browser, Page, expect

from controller.store import hotlists as repo


def test_hand_list_upload_approval_and_plate_history(site: Site, page: Page, browser: Browser,
                                                     tmp_path: Path) -> None:
    listed = tmp_path / "burglary.csv"
    listed.write_text("plate,state,category,reason\n7ABC123,CA,stolen,burglary 1\n")
    site.user("ann.lee", "analyst")
    site.login(page, "ann.lee")
    page.goto(f"{site.url}/hotlists")
    form = page.locator("#upload-form")
    form.locator("input[name=list_name]").fill("burglary-26")
    form.locator("input[name=file]").set_input_files(str(listed))
    form.locator("input[name=case_number]").fill("26-004512")
    form.locator("input[name=reason]").fill("burglary series, suspect vehicles")
    form.locator("button[type=submit]").click()
    expect(page.locator("#import-report")).to_contain_text("waits for an administrator")
    site.shot(page, "20-hotlist-hand-upload")
    assert repo.list_entries(site.engine, "burglary-26") == []

    site.user("chief.ray", "administrator")
    admin = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    site.login(admin, "chief.ray")
    admin.goto(f"{site.url}/hotlists")
    admin.click("#approvals-link")
    row = admin.locator("#pending-versions tbody tr", has_text="burglary-26 v1")
    expect(row).to_contain_text("ann.lee")
    site.shot(admin, "21-hotlist-approval-queue")
    row.locator("button[value=approve]").click()
    expect(admin.locator(".flash-info")).to_contain_text("raises hits from now")
    assert [e["plate"] for e in repo.list_entries(site.engine, "burglary-26")] == ["7ABC123"]
    admin.goto(f"{site.url}/hotlists")
    admin.fill("#history-form input[name=plate]", "7abc123")
    admin.locator("#history-form button").click()
    # A plate's history is plate data: the purpose is asked first, then the page (462.5).
    expect(admin.locator("h1")).to_contain_text("Purpose of this work")
    admin.select_option("select[name=purpose]", "Stolen vehicle investigation")
    admin.fill("input[name=case_number]", "26-004512")
    admin.check("input[name=attest]")
    admin.click("#purpose-form button[type=submit]")
    history = admin.locator("#history tbody tr", has_text="burglary-26 v1")
    expect(history).to_contain_text("ann.lee")
    expect(history).to_contain_text("chief.ray")
    expect(history).to_contain_text("26-004512")
    site.shot(admin, "22-plate-history")
    admin.context.close()
