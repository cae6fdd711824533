"""Search results in pages (``search.page_size``): each page is a search of its own, older
reads after the previous page's last, audited with exactly the reads it shows."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine
from tests_web_helpers import Auth, app_with

from controller.settings import SearchSettings, Settings
from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEARCH = {"mode": "exact", "plate": "7ABC123", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes"}
PAGE = 10
DASH = "\N{EN DASH}"


@pytest.fixture
def paged(settings: Settings, engine: Engine) -> Iterator[Auth]:
    """An officer signed in to a web application that shows ten reads a page."""
    small = settings.model_copy(update={"search": SearchSettings(page_size=PAGE)})
    with app_with(small, engine) as auth:
        auth.make_user("ann.lee", "officer")
        auth.login("ann.lee")
        yield auth


@pytest.fixture
def newest_first(engine: Engine) -> list[str]:
    """25 reads of the plate (three pairs sharing a second, so the order is decided by
    id), and reads of another plate between them; the plate's uuids, newest first."""
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    rows: list[dict[str, Any]] = []
    for n in range(25):
        at = T0 + timedelta(minutes=n // 2 if n < 6 else n)
        for plate in ("7ABC123", "8XYZ999"):
            rows.append({"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate,
                         "confidence": 0.9, "char_confidences": [0.9] * 7,
                         "camera_id": camera, "site_id": site, "seen_at": at,
                         "created_at": at})
    # Exactly a page of a third plate: one page, with nothing after it.
    rows += [{**rows[n], "uuid": str(uuid.uuid4()), "plate": "5DEF456", "raw_text": "5DEF456"}
             for n in range(PAGE)]
    read_repo.insert_batch(engine, rows)
    stored = [read_repo.get_by_uuid(engine, r["uuid"]) for r in rows if r["plate"] == "7ABC123"]
    ordered = sorted(stored, key=lambda r: (r["seen_at"], r["id"]),  # type: ignore[index]
                     reverse=True)
    return [str(r["uuid"]) for r in ordered]  # type: ignore[index]


def _shown(page: str) -> list[str]:
    return re.findall(r'class="plate" href="/reads/([0-9a-f-]{36})\?', page)


def _link(page: str, anchor: str) -> str | None:
    tag = re.search(rf'<a [^>]*id="{anchor}"[^>]*>', page)
    found = re.search(r'href="([^"]+)"', tag.group(0)) if tag else None
    return html.unescape(found.group(1)) if found else None


def _heading(page: str) -> str:
    found = re.search(r'<h2 id="results-count">([^<]+)</h2>', page)
    assert found, "no result heading"
    return found.group(1)


def test_pages_walk_every_read_once_newest_first(paged: Auth, engine: Engine,
                                                 newest_first: list[str]) -> None:
    response = paged.post("/search", SEARCH)
    assert response.status_code == 200
    pages, headings = [_shown(response.text)], [_heading(response.text)]
    older = _link(response.text, "older-results")
    assert _link(response.text, "newest-results") is None
    while older is not None:
        response = paged.client.get(older)
        assert response.status_code == 200
        pages.append(_shown(response.text))
        headings.append(_heading(response.text))
        assert _link(response.text, "newest-results") is not None
        older = _link(response.text, "older-results")
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [u for p in pages for u in p] == newest_first
    assert headings == [f"Reads {a}{DASH}{b}, newest first" for a, b in
                        ((1, 10), (11, 20), (21, 25))]
    # Each page is audited as a search that returned exactly the reads it shows; the pages
    # after the first run under the purpose stated once.
    entries = sorted(audit_repo.search(engine, action="search.exact"), key=lambda e: e["id"])
    assert [e["outcome"] for e in entries] == ["allowed"] * 3
    for entry, shown in zip(entries, pages, strict=True):
        ids = [int(read_repo.get_by_uuid(engine, u)["id"]) for u in shown]  # type: ignore[index]
        assert entry["data"]["read_ids"] == ids and entry["data"]["results"] == len(shown)
        assert entry["purpose"] == SEARCH["purpose"] and entry["plate"] == "7ABC123"


def test_newest_link_and_the_way_back_from_a_read_keep_the_page(
        paged: Auth, newest_first: list[str]) -> None:
    first = paged.post("/search", SEARCH).text
    second = paged.client.get(_link(first, "older-results")).text
    assert _shown(second) == newest_first[10:20]
    again = paged.client.get(_link(second, "newest-results")).text
    assert _shown(again) == newest_first[:10]
    assert _heading(again) == f"Reads 1{DASH}10, newest first"
    # A read opened from the second page leads back to the second page.
    detail = re.search(rf'href="(/reads/{newest_first[12]}\?back=[^"]+)"', second)
    assert detail
    read_page = paged.client.get(html.unescape(detail.group(1))).text
    back = _link(read_page, "back-to-results")
    assert back is not None
    assert _shown(paged.client.get(back).text) == newest_first[10:20]


def test_a_page_that_fits_is_not_paged(paged: Auth, newest_first: list[str]) -> None:
    page = paged.post("/search", {**SEARCH, "plate": "5DEF456"}).text
    assert len(_shown(page)) == PAGE and _heading(page) == f"{PAGE} reads"
    assert _link(page, "older-results") is None and _link(page, "newest-results") is None


@pytest.mark.parametrize("cursor", ["made-up", "x" * 300, ""])
def test_a_cursor_not_given_here_is_refused_by_name(paged: Auth, engine: Engine,
                                                    newest_first: list[str], cursor: str) -> None:
    first = paged.post("/search", SEARCH).text
    given = _link(first, "older-results")
    assert given is not None
    tampered = re.sub(r"cursor=[^&]+", f"cursor={cursor}z" if cursor else "cursor=a.b.c", given)
    response = paged.client.get(tampered)
    assert response.status_code == 400
    assert "Cursor: not a cursor given for this list" in response.text
    assert not _shown(response.text)
    assert len(audit_repo.search(engine, action="search.exact")) == 1


@pytest.mark.parametrize("start", ["\N{SUPERSCRIPT TWO}", "-3", "0", "x", "9" * 40])
def test_a_page_number_that_is_no_number_is_read_as_one(paged: Auth, newest_first: list[str],
                                                        start: str) -> None:
    # ``start`` only numbers the heading: the cursor still decides which reads come.
    older = _link(paged.post("/search", SEARCH).text, "older-results")
    assert older is not None and "start=11" in older
    response = paged.client.get(older.replace("start=11", "start=" + quote(start)))
    assert response.status_code == 200
    assert _shown(response.text) == newest_first[10:20]
    assert _heading(response.text) == f"Reads 1{DASH}10, newest first"
