"""Issue 16, point 7's rough edges: the policy as a document, plain-word form errors,
confirmations, the login refusal, the audit log's paging and filters, the read page's
way back, hold button and map link, and the live caption under a court order."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine
from tests_web_helpers import actions

from controller import audit
from controller.compliance import court_orders, transparency
from controller.store import hits as hit_repo
from controller.store import holds as hold_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo

POLICY_MD = b"""# Policy 462 (test)

Reads are kept **two years**.

<script>alert('x')</script>

- one
- two
"""


def _camera(engine: Engine) -> tuple[int, int]:
    site_id = site_repo.create_site(engine, code="main-5th", name="Main St & 5th",
                                    latitude=34.05, longitude=-118.25)
    camera = site_repo.create_camera(engine, site_id, {"name": "NB lane 1", "host": "127.0.0.1",
                                                       "latitude": 34.05123, "longitude": -118.25})
    return site_id, camera


def _read(engine: Engine, plate: str = "7ABC123") -> str:
    site_id, camera = _camera(engine)
    read_uuid, seen = str(uuid.uuid4()), datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    hit_repo.write_reads(engine, [{"images": [], "hits": [], "read": {
        "uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.96,
        "char_confidences": [0.96] * len(plate), "camera_id": camera, "site_id": site_id,
        "seen_at": seen, "direction": "NB", "created_at": seen,
        # The pipeline stamps each read with its camera's position.
        "latitude": 34.05123, "longitude": -118.25}}], sinks=[], now=seen)
    return read_uuid


def test_policy_is_shown_as_a_document_with_html_escaped(auth, client, engine: Engine) -> None:
    transparency.publish_document(engine, version="9", title="ALPR policy",
                                  adopted_on=date(2026, 1, 5), filename="policy.md",
                                  data=POLICY_MD, actor="test")
    page = client.get("/transparency").get_data(as_text=True)
    document = page.split('id="policy-document">')[1].split("</article>")[0]
    assert "<h1>Policy 462 (test)</h1>" in document
    assert "<strong>two years</strong>" in document and "<li>one</li>" in document
    assert "<script>" not in document and "&lt;script&gt;" in document
    assert "# Policy 462" not in document  # no raw Markdown
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    own = client.get("/policy").get_data(as_text=True)
    assert "<h1>Policy 462 (test)</h1>" in own and "&lt;script&gt;" in own


def test_search_tells_every_bad_field_beside_it_in_plain_words(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    refused = auth.post("/search", {"mode": "exact", "plate": "7AB*", "purpose": "",
                                    "case_number": "", "attest": "", "since": "yesterday"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for field in ("plate", "purpose", "case_number", "attest", "since"):
        assert f'id="problem-{field}"' in page, field
    summary = page.split('id="search-error"')[1].split("</div>")[0]
    assert "Please correct 5 fields" in summary
    for words in ("Plate:", "Purpose:", "Case number:", "Attestation:", "From:"):
        assert words in summary, words
    assert "case_number" not in summary and "attest:" not in summary
    assert actions(engine, "search.exact") == ["denied"]


def test_hold_release_needs_the_confirmation(auth, engine: Engine) -> None:
    read_uuid = _read(engine)
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    placed = auth.post("/holds", {"case_number": "26-1", "reason": "homicide",
                                  "read_uuids": read_uuid})
    assert placed.status_code == 303
    hold_id = hold_repo.list_holds(engine)[0]["id"]
    refused = auth.post("/holds/release", {"hold_id": str(hold_id)})
    assert refused.status_code == 400
    assert "Confirmation: tick &#39;I confirm&#39;" in refused.get_data(as_text=True)
    assert hold_repo.get_hold(engine, hold_id)["released_at"] is None
    assert auth.post("/holds/release", {"hold_id": str(hold_id),
                                        "confirm": "yes"}).status_code == 303
    assert hold_repo.get_hold(engine, hold_id)["released_at"] is not None


def test_login_refusal_keeps_the_notice_tick_and_shows_in_the_card(auth, client) -> None:
    auth.make_user("ann.lee", "officer")
    refused = auth.post("/login", {"username": "ann.lee", "password": "wrong-one",
                                   "banner_ack": "yes"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 401
    card = page.split('id="login-form"')[1].split("</form>")[0]
    assert 'id="login-error"' in card and "wrong username or password" in card
    assert re.search(r'name="banner_ack" value="yes" required checked', card)
    assert 'value="ann.lee"' in card
    unticked = auth.post("/login", {"username": "ann.lee", "password": "x"})
    assert unticked.status_code == 400
    assert "Acknowledge the system-use notice" in unticked.get_data(as_text=True)


def _log(engine: Engine, count: int) -> None:
    for n in range(count):
        audit.record(engine, audit.AuditEvent(actor=f"user{n % 3}", action="read.view",
                                              data={"n": n}))


def _ids(page: str) -> list[int]:
    body = page.split('id="audit-rows"')[1].split("</table>", maxsplit=1)[0]
    return [int(i) for i in re.findall(r'<td class="mono small">(\d+)</td>', body)]


def _link(page: str, anchor: str) -> str:
    return re.search(rf'href="([^"]+)" id="{anchor}"', page).group(1).replace("&amp;", "&")


def test_audit_log_pages_by_entry_number_and_keeps_the_filters(auth, client,
                                                               engine: Engine) -> None:
    auth.make_user("chief", "administrator")
    auth.login("chief")
    auth.state_purpose(purpose="Audit of system use (462.6)", case_number="2026Q4")
    _log(engine, 230)
    first = client.get("/audit?action=read.view").get_data(as_text=True)
    newest = _ids(first)
    assert len(newest) == 100 and newest == sorted(newest, reverse=True)
    assert 'id="page-newer"' not in first
    older_url = _link(first, "page-older")
    assert parse_qs(urlsplit(older_url).query) == {"before": [str(newest[-1])],
                                                   "action": ["read.view"]}
    second = client.get(older_url).get_data(as_text=True)
    middle = _ids(second)
    assert len(middle) == 100 and max(middle) < min(newest)
    third = client.get(_link(second, "page-older")).get_data(as_text=True)
    last = _ids(third)
    assert len(last) == 30 and 'id="page-older"' not in third and max(last) < min(middle)
    back = client.get(_link(third, "page-newer")).get_data(as_text=True)
    assert _ids(back) == middle
    # The action is chosen from readable labels; the row says it in words too.
    assert '<option value="read.view" selected>Read viewed</option>' in first
    assert "<td>Read viewed<div" in first
    bad = client.get("/audit?before=abc")
    assert bad.status_code == 400 and "Before:" in bad.get_data(as_text=True)


def test_read_page_leads_back_to_its_results_with_hold_and_map(auth, client,
                                                               engine: Engine) -> None:
    read_uuid = _read(engine)
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    results = auth.post("/search", {"mode": "exact", "plate": "7abc123",
                                    "since": "2026-11-01T00:00", "until": "2026-12-01T00:00",
                                    "purpose": "", "case_number": ""}).get_data(as_text=True)
    link = re.search(rf'href="(/reads/{read_uuid}\?back=[^"]+)"', results).group(1)
    detail = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    back = _link(detail, "back-to-results")
    query = parse_qs(urlsplit(back).query)
    assert query == {"mode": ["exact"], "plate": ["7abc123"], "since": ["2026-11-01T00:00"],
                     "until": ["2026-12-01T00:00"], "run": ["yes"]}
    again = client.get(back)
    assert again.status_code == 200 and read_uuid in again.get_data(as_text=True)
    # Run again under the same purpose window, and audited as a search like the first.
    assert actions(engine, "search.exact") == ["allowed", "allowed"]
    assert f'href="/holds?read_uuids={read_uuid}" id="hold-read"' in detail
    holds_page = client.get(f"/holds?read_uuids={read_uuid}").get_data(as_text=True)
    assert f">{read_uuid}</textarea>" in holds_page
    assert 'href="geo:34.05123,-118.25000" id="read-map"' in detail
    # A read opened without a search has no way back, and nothing else is invented.
    plain = client.get(f"/reads/{read_uuid}").get_data(as_text=True)
    assert 'id="back-to-results"' not in plain
    odd = client.get(f"/reads/{read_uuid}?back=evil%3Dhttp%3A%2F%2Fx").get_data(as_text=True)
    assert 'id="back-to-results"' not in odd


def test_live_caption_names_masks_lifted_under_a_court_order(auth, client,
                                                             engine: Engine) -> None:
    _site, camera = _camera(engine)
    door = region_repo.add_region(engine, camera, "privacy_mask", "front door",
                                  [[0, 0], [0.2, 0], [0.2, 0.2]])
    region_repo.add_region(engine, camera, "privacy_mask", "yard", [[0.5, 0.5], [0.6, 0.5],
                                                                    [0.6, 0.6]])
    auth.make_user("chief", "administrator")
    auth.login("chief")
    auth.state_purpose()
    page = client.get(f"/live/{camera}").get_data(as_text=True)
    assert "front door, yard" in page and 'id="masks-lifted"' not in page
    assert "privacy masks applied" not in page
    changes: list[Any] = []
    court_orders.lift_mask(engine, region_id=door, court_order="CR-26-991", court="LASC",
                           expires_at=datetime.now(UTC) + timedelta(days=2), actor="chief",
                           notify=changes.append)
    lifted = client.get(f"/live/{camera}").get_data(as_text=True)
    shown = lifted.split('id="masks-lifted"')[1].split("</div>")[0]
    assert "front door" in shown and "CR-26-991" in shown and "LASC" in shown
    in_force = lifted.split('id="masks-in-force"')[1].split("</p>")[0]
    assert "yard" in in_force and "front door" not in in_force
