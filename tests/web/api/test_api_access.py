"""Every API operation by every client role, trained owner or not, against Policy 462.

Written from the policy (as tests/web/test_web_access.py is for pages), never from
``controller/accounts/roles.py``. A client never holds the administrator role (462.3.1),
so the walk covers the four other roles; an untrained owner's client reaches nothing
(462.4.1). A refusal is 403 and leaves a denied entry under the client's name.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PURPOSE, TokenFor, bearer
from flask import Flask
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import Caller
from controller.alerts import hotlists
from controller.settings import Settings
from controller.store import audit as audit_repo

DATA = {"officer", "dispatcher", "analyst"}
INVESTIGATORS = {"officer", "analyst"}
API_POLICY: dict[str, set[str]] = {
    # Status and health: every trained user (462.4, 462.4.1); vendors see health (DESIGN).
    "api_v1.get_status": {"officer", "dispatcher", "analyst", "vendor", "auditor"},
    # Searches: officers and analysts (462.7(2)-(4), 462.4); not dispatchers or vendors.
    "api_v1.search_reads": {"officer", "analyst"},
    # A read, its image, hits: the database's users (462.4, 462.7(7)); never vendors.
    "api_v1.get_read": DATA, "api_v1.get_read_image": DATA, "api_v1.list_hits": DATA,
    "api_v1.get_hit": DATA,
    # The CLETS outcome: dispatch (462.7(7), DESIGN 462.7).
    "api_v1.verify_hit": {"dispatcher"},
    # Sites, cameras and their health: every role, vendors maintain them (462.4, DESIGN 462.4).
    "api_v1.list_sites": {"officer", "dispatcher", "analyst", "vendor"},
    "api_v1.list_cameras": {"officer", "dispatcher", "analyst", "vendor"},
    # Hotlists: read by the database's users (462.4); entered by analysts (and the
    # administrator) on a case, approved by an administrator only (462.7.1(2)(3), 462.3.1).
    "api_v1.list_hotlists": DATA, "api_v1.list_versions": DATA,
    "api_v1.import_file": {"analyst"}, "api_v1.add_entry": {"analyst"},
    "api_v1.expire_entry": {"analyst"},
    # Evidence holds, their package and its download: investigators, officers and analysts
    # (462.8, 462.10, 462.11(b)); dispatchers not named, vendors never data. In this order:
    # the client's own hold is packaged, downloaded, then released by it.
    "api_v1.create_hold": INVESTIGATORS, "api_v1.list_holds": INVESTIGATORS,
    "api_v1.build_package": INVESTIGATORS, "api_v1.download_package": INVESTIGATORS,
    "api_v1.release_hold": INVESTIGATORS,
    # Another agency's written request (462.12(a)): filed by the member who received it and
    # followed by them; never a vendor (462.4). Deciding it is the administrator's (462.12(b)).
    "api_v1.file_request": DATA, "api_v1.list_requests": DATA,
    # The access log and its audits are the ALPR Administrator's (462.5, 462.6, 462.3.1), a
    # person; the client-only auditor role reads for them (query, verify, a closed quarter's
    # package). No other client role reaches the log, vendors and officers included.
    "api_v1.list_events": {"auditor"}, "api_v1.verify_chain": {"auditor"},
    "api_v1.get_package": {"auditor"},
}


HAND = {"case_number": "26-004512", "reason": "Robbery suspect vehicle",
        "expires_at": "2099-01-01T00:00"}
CSV = b"plate,category\n8XYZ999,wanted_warrant\n6DEF456,stolen_vehicle\n"
# What each operation that changes something is sent (a valid request: the role decides).
BODIES: dict[str, Callable[[], dict[str, Any]]] = {
    "verify_hit": lambda: {"json": {"outcome": "not_practicable"}},
    "import_file": lambda: {"data": {"file": (io.BytesIO(CSV), "list.csv"), **HAND},
                            "content_type": "multipart/form-data"},
    "add_entry": lambda: {"json": {"plate": "5GHI789", "category": "stolen_plate", **HAND}},
    "expire_entry": lambda: {"json": {"reason": "recovered"}},
    "create_hold": lambda: {"json": {"case_number": "26-004512", "reason": "robbery",
                                     "read_uuids": []}},
    "build_package": lambda: {"headers": PURPOSE},
    "file_request": lambda: {"json": {
        "agency": "Brawley Police Department", "ori": "CA0130100", "state": "CA",
        "kind": "law_enforcement", "requester_name": "Det. R. Ortiz", "purpose": "Homicide",
        "case_number": "BPD-26-1187", "plates": ["7ABC123"], "since": "2026-11-01T00:00",
        "until": "2026-11-03T00:00", "received_on": "2026-11-04"}},
    "release_hold": dict,
}


@pytest.fixture
def hand_list(engine: Engine, settings: Settings, auth: Auth) -> str:
    """Two hand-entered lists holding 8XYZ999: robbery-26 approved and in force (a client
    takes a plate off it), robbery-27 pending (a client uploads or adds to it; a plate
    comes off a list only while no version of it waits)."""
    made = hotlists.import_hotlist(engine, settings.hotlists, CSV, "robbery-26",
                                   actor="ada.admin", **HAND)
    user = auth.make_user("bo.admin", "administrator")
    approver = Caller(username="bo.admin", role="administrator", user_id=int(user["id"]),
                      gate_ok=True)
    assert made.version_id is not None
    hotlists.decide_version(engine, approver, made.version_id, approve=True)
    hotlists.import_hotlist(engine, settings.hotlists, CSV, "robbery-27", actor="ada.admin",
                            **HAND)
    return "robbery-26"


def _call(app: Flask, endpoint: str, token: str, world: dict[str, Any]) -> Any:
    client = app.test_client()
    name = endpoint.split(".")[1]
    args = {"get_read": {"read_uuid": world["reads"][0]},
            "get_read_image": {"read_uuid": world["reads"][0], "kind": "crop"},
            "get_hit": {"hit_uuid": world["hit"]},
            "verify_hit": {"hit_uuid": world["hit"]},
            "list_versions": {"list_name": "robbery-26"},
            "import_file": {"list_name": "robbery-27"},
            "add_entry": {"list_name": "robbery-27"},
            "expire_entry": {"list_name": "robbery-26", "plate": "8XYZ999"},
            # What this client made earlier in the walk (any number when it made none).
            "build_package": {"hold_id": world.get("made_hold", 1)},
            "release_hold": {"hold_id": world.get("made_hold", 1)},
            "download_package": {"package_id": world.get("made_package", 1)},
            "get_package": {"quarter": "2025Q4"}}.get(name, {})
    with app.test_request_context():
        from flask import url_for
        url = url_for(endpoint, **args)
    if name in BODIES:
        sent = BODIES[name]()
        if name == "create_hold":
            sent["json"]["read_uuids"] = world["reads"][:1]
        response = client.post(url, headers=bearer(token, **sent.pop("headers", {})), **sent)
        made = {"create_hold": "made_hold", "build_package": "made_package"}.get(name)
        if made and response.status_code == 201:
            world[made] = response.get_json()["id"]
        return response
    response = client.get(url, query_string={"plate": "7ABC123"},
                          headers=bearer(token, **PURPOSE))
    response.close()  # a download's file
    return response


def test_every_operation_is_classified(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api_v1.")}
    assert endpoints == set(API_POLICY)


@pytest.mark.parametrize("role", ["officer", "dispatcher", "analyst", "vendor", "auditor"])
def test_role_walk(app: Flask, engine: Engine, token_for: TokenFor, world: dict[str, Any],
                   hand_list: str, role: str) -> None:
    trained = token_for(role, name=f"walk-{role}")
    untrained = token_for(role, owner_trained=False, name=f"walk-{role}-u")
    for endpoint, who in API_POLICY.items():
        response = _call(app, endpoint, trained, world)
        if role in who:
            assert response.status_code in (200, 201), f"{role} {endpoint}: {response.get_json()}"
        else:
            assert response.status_code == 403, f"{role} {endpoint}"
        assert _call(app, endpoint, untrained, world).status_code == 403, f"untrained {endpoint}"
    denied = audit_repo.search(engine, actor=f"client:walk-{role}", action="access.denied")
    assert len(denied) == sum(role not in who for who in API_POLICY.values())
