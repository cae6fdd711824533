"""An evidence package downloaded in Debian's Chromium (issue 14 point 6; 462.10).

The officer holds a read, exports the evidence package and downloads it from the
page: the file arrives in the browser and is a valid package (every file matches
its SHA-256 manifest), and the download is in the access log.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser_helpers import Site
from playwright.sync_api import Page, expect

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import sites as site_repo

pytestmark = pytest.mark.browser


def _read(site: Site) -> str:
    site_id = site_repo.create_site(site.engine, code="main-5th", name="Main St & 5th Ave",
                                    latitude=34.05, longitude=-118.25)
    camera = site_repo.create_camera(site.engine, site_id, {"name": "NB lane 1",
                                                            "host": "127.0.0.1"})
    seen = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    read_uuid = str(uuid.uuid4())
    hit_repo.write_reads(site.engine, [{
        "images": [],
        "read": {"uuid": read_uuid, "plate": "7ABC123", "raw_text": "7ABC123",
                 "confidence": 0.96, "char_confidences": [0.96] * 7, "camera_id": camera,
                 "site_id": site_id, "seen_at": seen, "direction": "NB", "created_at": seen},
        "hits": [{"uuid": str(uuid.uuid4()), "entry": {
            "list": "CA-SVS", "plate": "7ABC123", "match": "exact",
            "category": "stolen_vehicle", "reason": "Stolen 2026-11-18"}}],
    }], sinks=[], now=seen)
    return read_uuid


def test_evidence_package_downloads_in_the_browser(site: Site, page: Page,
                                                   tmp_path: Path) -> None:
    read_uuid = _read(site)
    site.user("ann.lee", "officer")
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
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    manifest = files.pop("MANIFEST.sha256").decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest)
    assert set(listed) == set(files)
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    assert read_uuid in files["reads.json"].decode()
    assert "26-004512" in files["hold.json"].decode()
    site.shot(page, "12-evidence-download")
    logged = audit_repo.search(site.engine, action="export.download_evidence")
    assert [(e["actor"], e["outcome"]) for e in logged] == [("ann.lee", "allowed")]
