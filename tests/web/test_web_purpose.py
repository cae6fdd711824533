"""Every page that shows plate data asks for a purpose once, then logs each view with it (462.5).

For each route: without an open purpose window the browser is sent to the purpose
form and back; with one, the view's audit entry names the plate or query, the rows
returned and the window's purpose and case number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import Engine, update
from test_web_hits import add_hit
from test_web_search import GOOD, T0, add_read
from tests_web_helpers import Auth

from controller import audit
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import sites as site_repo

WORK = ("Stolen vehicle investigation", "26-004512")
AUDIT_WORK = ("Audit of system use (462.6)", "2026Q4")


def asked_from(response: Any) -> str | None:
    """Where the purpose form will send the user back to, if the response sends them there."""
    parts = urlsplit(response.location or "")
    if response.status_code != 303 or parts.path != "/purpose":
        return None
    return parse_qs(parts.query).get("next", [""])[0]


def newest(engine: Engine, action: str) -> dict[str, Any]:
    rows = audit_repo.search(engine, action=action, limit=1)
    assert rows, f"no {action} entry"
    return dict(rows[0])


def count(engine: Engine, action: str) -> int:
    return len(audit_repo.search(engine, action=action, limit=10_000))


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, str]:
    """A read of 7ABC123 with both images, and a hit on 7ABC123."""
    hit = add_hit(engine, "7ABC123")
    site = site_repo.create_site(engine, code="main-st", name="Main St & 5th")
    camera = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "10.0.0.5"})
    return {"read": add_read(engine, settings, camera, site, "7ABC123", T0), "hit": hit}


# (route, action, plate or query it logs, rows it returned)
ROUTES = [
    ("/reads/{read}", "read.view", "7ABC123", 1),
    ("/reads/{read}/image/overview", "image.view", "7ABC123", 1),
    ("/hits", "hit.history", None, 1),
    ("/hits?plate=7abc-123", "hit.history", "7ABC123", 1),
    ("/hits/queue", "alert.queue", None, 1),
    ("/hits/{hit}", "hit.view", "7ABC123", 1),
]


@pytest.mark.parametrize(("route", "action", "plate", "rows"), ROUTES,
                         ids=[r[0] for r in ROUTES])
def test_each_plate_route_asks_then_logs_plate_rows_purpose_and_case(
        auth: Auth, client: Any, engine: Engine, world: dict[str, str], route: str,
        action: str, plate: str | None, rows: int) -> None:
    url = route.format(**world)
    auth.make_user("chief.ray", "administrator")
    auth.login("chief.ray")
    asked = client.get(url)
    assert asked_from(asked) == url
    assert count(engine, action) == 0
    back = auth.state_purpose(*WORK, next=url)
    assert back.status_code == 303 and back.location == url
    shown = client.get(url)
    assert shown.status_code == 200
    shown.close()
    entry = newest(engine, action)
    assert (entry["actor"], entry["outcome"], entry["plate"], entry["data"]["results"]) == (
        "chief.ray", "allowed", plate, rows)
    assert (entry["purpose"], entry["case_number"]) == WORK
    stated = newest(engine, "purpose.state")
    assert entry["data"]["window"] == stated["data"]["window"]


def test_the_audit_viewer_asks_and_is_itself_audited(auth: Auth, client: Any,
                                                    engine: Engine) -> None:
    auth.make_user("chief.ray", "administrator")
    auth.login("chief.ray")
    assert asked_from(client.get("/audit?plate=7abc123")) == "/audit?plate=7abc123"
    auth.state_purpose(*AUDIT_WORK)
    for plate in ("7ABC123", "7ABC123", "8XYZ999"):
        audit.record(engine, audit.AuditEvent(actor="ann.lee", action="search.exact",
                                              plate=plate, purpose="Missing person"))
    page = client.get("/audit?plate=7abc123&action=search.exact")
    assert page.status_code == 200 and page.get_data(as_text=True).count("<td>ann.lee</td>") == 2
    entry = newest(engine, "audit.view")
    assert (entry["plate"], entry["data"]["action"], entry["data"]["results"]) == (
        "7ABC123", "search.exact", 2)
    assert (entry["purpose"], entry["case_number"]) == AUDIT_WORK
    assert client.get("/audit").status_code == 200
    assert newest(engine, "audit.view")["data"]["results"] > 0


def test_thumbnails_log_one_entry_per_result_page(auth: Auth, client: Any, engine: Engine,
                                                  world: dict[str, str]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.post("/search", GOOD)
    search = newest(engine, "search.exact")
    for kind in ("crop", "crop", "overview"):
        thumb = client.get(f"/reads/{world['read']}/thumb/{kind}?search={search['id']}")
        assert thumb.status_code == 200
        thumb.close()
    logged = audit_repo.search(engine, action="image.thumbnails")
    assert sorted(e["data"]["kind"] for e in logged) == ["crop", "overview"]
    for entry in logged:
        assert (entry["plate"], entry["data"]["search"], entry["data"]["results"]) == (
            "7ABC123", search["id"], search["data"]["results"])
        assert (entry["purpose"], entry["case_number"]) == WORK


def test_a_search_states_the_purpose_once_for_the_next_ones(auth: Auth, client: Any,
                                                           engine: Engine,
                                                           world: dict[str, str]) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    assert auth.post("/search", GOOD).status_code == 200
    assert count(engine, "purpose.state") == 1
    form = client.get("/search").get_data(as_text=True)
    assert "<option selected>Stolen vehicle investigation</option>" in form
    assert 'value="26-004512"' in form
    # Searching again under the window: no purpose, case number or attestation asked.
    again = auth.post("/search", {"mode": "exact", "plate": "7ABD123"})
    assert again.status_code == 200
    entry = newest(engine, "search.exact")
    assert (entry["plate"], entry["purpose"], entry["case_number"]) == ("7ABD123", *WORK)
    assert entry["data"]["results"] == 0 and count(engine, "purpose.state") == 1
    # A new purpose is a new statement: it needs the attestation, then opens a window.
    new = {"mode": "exact", "plate": "7ABC123", "purpose": "Missing person",
           "case_number": "26-9"}
    refused = auth.post("/search", new)
    assert refused.status_code == 400 and "Attestation:" in refused.get_data(as_text=True)
    assert auth.post("/search", {**new, "attest": "yes"}).status_code == 200
    stated = newest(engine, "purpose.state")
    assert (stated["purpose"], stated["case_number"]) == ("Missing person", "26-9")
    assert len(stated["data"]["replaced"]) == 1
    entry = newest(engine, "search.exact")
    assert (entry["purpose"], entry["case_number"], entry["data"]["results"]) == (
        "Missing person", "26-9", 2)
    assert entry["data"]["window"] == stated["data"]["window"]


def test_the_refreshing_queue_is_logged_when_it_changes(auth: Auth, client: Any,
                                                        engine: Engine,
                                                        world: dict[str, str]) -> None:
    auth.make_user("dee.ortiz", "dispatcher")
    auth.login("dee.ortiz")
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "CAD 26-1187")
    for _ in range(3):
        assert client.get("/hits/queue").status_code == 200
    assert count(engine, "alert.queue") == 1
    add_hit(engine, "8XYZ999")
    assert "8XYZ999" in client.get("/hits/queue").get_data(as_text=True)
    entry = newest(engine, "alert.queue")
    assert count(engine, "alert.queue") == 2
    assert (entry["data"]["results"], entry["data"]["plates"]) == (2, ["7ABC123", "8XYZ999"])
    assert entry["purpose"] == "Hit verification through CLETS (462.7(7))"
    # A new window logs the queue again, under its own purpose.
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "CAD 26-1190")
    client.get("/hits/queue")
    assert newest(engine, "alert.queue")["case_number"] == "CAD 26-1190"


def test_an_expired_window_asks_again(auth: Auth, client: Any, engine: Engine,
                                      world: dict[str, str]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose(*WORK)
    url = f"/reads/{world['read']}"
    assert client.get(url).status_code == 200
    from controller.store.schema import purpose_windows

    # Move the stored window back past its 30 minutes (the default), as time would.
    started = datetime.now(UTC) - timedelta(minutes=30, seconds=1)
    with engine.begin() as conn:
        conn.execute(update(purpose_windows).values(
            started_at=started, expires_at=started + timedelta(minutes=30)))
    views = count(engine, "read.view")
    assert asked_from(client.get(url)) == url
    assert count(engine, "read.view") == views


def test_the_window_follows_the_configured_minutes(app: Flask, auth: Auth, client: Any,
                                                   engine: Engine) -> None:
    settings = app.config["SIGHTLINE_SETTINGS"]
    app.config["SIGHTLINE_SETTINGS"] = settings.model_copy(update={
        "search": settings.search.model_copy(update={"purpose_window_minutes": 5})})
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose(*WORK)
    from controller.store.schema import purpose_windows

    with engine.connect() as conn:
        window = conn.execute(purpose_windows.select()).mappings().one()
    assert window["expires_at"] - window["started_at"] == timedelta(minutes=5)
    assert newest(engine, "purpose.state")["data"]["minutes"] == 5


def test_another_users_window_covers_nothing(app: Flask, auth: Auth, client: Any,
                                             engine: Engine, world: dict[str, str]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.make_user("bob.ray", "officer")
    auth.login("ann.lee")
    auth.state_purpose(*WORK)
    bob = Auth(app, app.test_client(), engine)
    bob.secrets = auth.secrets
    bob.login("bob.ray")
    url = f"/reads/{world['read']}"
    assert asked_from(bob.client.get(url)) == url
    assert bob.post("/purpose/end").status_code == 303
    assert count(engine, "purpose.end") == 0
    assert client.get(url).status_code == 200
    assert newest(engine, "read.view")["actor"] == "ann.lee"


def test_the_form_refuses_bad_input_and_strange_next(auth: Auth, client: Any,
                                                    engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    bad = auth.post("/purpose", {"purpose": "curiosity", "case_number": "26-1", "attest": "yes",
                                 "next": "/hits"})
    assert bad.status_code == 400 and "Purpose: choose the purpose" in bad.get_data(as_text=True)
    assert newest(engine, "purpose.state")["outcome"] == "denied"
    away = auth.state_purpose(*WORK, next="//evil.example/steal")
    assert away.status_code == 303 and away.location == "/"
    page = client.get("/purpose").get_data(as_text=True)
    assert 'id="purpose-current">Stolen vehicle investigation' in page
    assert 'id="purpose-chip"' in page
    assert auth.post("/purpose/end").status_code == 303
    assert newest(engine, "purpose.end")["purpose"] == WORK[0]
    assert 'id="purpose-chip"' not in client.get("/purpose").get_data(as_text=True)


def test_a_script_gets_a_json_answer_not_the_form(auth: Auth, client: Any, engine: Engine,
                                                  world: dict[str, str]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    answer = client.get(f"/reads/{world['read']}", json={})
    assert answer.status_code == 403
    assert answer.get_json() == {"error": "state the purpose and case number of this work "
                                          "first (policy 462.5)", "purpose_required": True}
    assert count(engine, "read.view") == 0
