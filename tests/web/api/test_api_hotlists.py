"""Hotlists over the API (462.7, 462.7.1(2)(3)): lists and versions; a file imported by
multipart upload, one entry added or expired, each a hand-entered version that raises no
hit until an administrator approves it (never the client: it holds no approval right)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from api_helpers import PROBLEM, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import Caller, clients
from controller.alerts import hotlists
from controller.errors import AccessDenied
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import hotlists as hotlist_repo

HAND = {"case_number": "26-004512", "reason": "Robbery suspect vehicle",
        "expires_at": "2099-01-01T00:00"}
CSV = b"plate,state,category,reason\n8XYZ999,CA,wanted_warrant,Armed robbery\n6DEF456,CA," \
      b"stolen_vehicle,Taken from lot\n"


def _upload(client: FlaskClient, token: str, name: str, data: bytes,
            **fields: str) -> Any:
    return client.post(f"/api/v1/hotlists/{name}/imports", headers=bearer(token),
                       data={"file": (io.BytesIO(data), "list.csv"), **fields},
                       content_type="multipart/form-data")


def _active(engine: Engine) -> set[tuple[str, str]]:
    return {(str(e["list_name"]), str(e["plate"])) for e in hotlist_repo.active_entries(engine)}


def _admin(auth: Auth, name: str) -> Caller:
    user = auth.make_user(name, "administrator")
    return Caller(username=name, role="administrator", user_id=int(user["id"]), gate_ok=True)


def test_hand_import_waits_for_an_administrator(client: FlaskClient, engine: Engine,
                                                auth: Auth, settings: Settings,
                                                token_for: TokenFor) -> None:
    token = token_for("analyst", name="rms-sync")
    made = _upload(client, token, "robbery-26", CSV, **HAND)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["imported"], body["status"], body["official"]) == (2, "pending", False)
    # Pending: nothing of it matches yet.
    assert not {p for n, p in _active(engine) if n == "robbery-26"}
    listed = client.get("/api/v1/hotlists", headers=bearer(token)).get_json()["items"]
    assert [(h["name"], h["active_version"]) for h in listed] == [("robbery-26", 0)]
    versions = client.get("/api/v1/hotlists/robbery-26/versions",
                          headers=bearer(token)).get_json()["items"]
    assert [(v["version"], v["status"], v["submitted_by"], v["case_number"])
            for v in versions] == [(1, "pending", "client:rms-sync", "26-004512")]
    # The client itself cannot approve what it entered: it holds no approval right.
    as_client = clients.resolve(engine, settings.security, token, client_addr=None)
    with pytest.raises(AccessDenied):
        hotlists.decide_version(engine, as_client, body["version_id"], approve=True)
    hotlists.decide_version(engine, _admin(auth, "bo.admin"), body["version_id"],
                            approve=True)
    assert {p for n, p in _active(engine) if n == "robbery-26"} == {"8XYZ999", "6DEF456"}
    (entry,) = audit_repo.search(engine, action="hotlist.import")
    assert entry["actor"] == "client:rms-sync" and entry["case_number"] == "26-004512"
    assert entry["data"]["plates"] == ["6DEF456", "8XYZ999"]


def test_refusals_name_the_field_and_keep_the_list(client: FlaskClient, engine: Engine,
                                                   token_for: TokenFor) -> None:
    token = token_for("analyst")
    no_case = _upload(client, token, "robbery-26", CSV, **{**HAND, "case_number": ""})
    assert no_case.status_code == 400 and no_case.get_json()["field"] == "case_number"
    garbage = _upload(client, token, "robbery-26", b"plate,category\n!!!,nonsense\n", **HAND)
    assert garbage.status_code == 400 and garbage.mimetype == PROBLEM
    problem = garbage.get_json()
    assert problem["field"] == "file" and problem["errors"][0]["field"] == "file:2"
    no_file = client.post("/api/v1/hotlists/robbery-26/imports", headers=bearer(token),
                          data=HAND, content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.get_json()["field"] == "file"
    assert hotlist_repo.list_hotlists(engine) == []


def test_official_feed_is_in_force_at_once(client: FlaskClient, engine: Engine,
                                           token_for: TokenFor) -> None:
    made = _upload(client, token_for("analyst"), "CA-SVS", CSV)
    assert made.status_code == 201 and made.get_json()["status"] == "approved"
    assert {p for n, p in _active(engine) if n == "CA-SVS"} == {"8XYZ999", "6DEF456"}


def test_add_and_expire_one_entry(client: FlaskClient, engine: Engine, auth: Auth,
                                  token_for: TokenFor) -> None:
    token = token_for("analyst", name="rms-sync")
    first = _upload(client, token, "robbery-26", CSV, **HAND).get_json()
    admin = _admin(auth, "bo.admin")
    hotlists.decide_version(engine, admin, first["version_id"], approve=True)
    added = client.post("/api/v1/hotlists/robbery-26/entries", headers=bearer(token), json={
        "plate": "5ghi789", "category": "stolen_plate", "reason": "Plates taken 11/01",
        **{k: HAND[k] for k in ("case_number", "expires_at")}})
    assert added.status_code == 201, added.get_json()
    version = added.get_json()
    assert (version["version"], version["status"], version["entry_count"]) == (2, "pending", 3)
    assert "5GHI789" not in {p for _n, p in _active(engine)}
    hotlists.decide_version(engine, admin, version["id"], approve=True)
    assert "5GHI789" in {p for _n, p in _active(engine)}
    gone = client.post("/api/v1/hotlists/robbery-26/entries/8XYZ999/expiry",
                       headers=bearer(token), json={"reason": "Suspect in custody"})
    assert gone.status_code == 201, gone.get_json()
    assert (gone.get_json()["entry_count"], gone.get_json()["status"]) == (2, "approved")
    # Taking a plate off only narrows the approved list: no longer matched, at once,
    # as when the web page ends an entry.
    assert {p for n, p in _active(engine) if n == "robbery-26"} == {"6DEF456", "5GHI789"}
    (expired,) = audit_repo.search(engine, action="hotlist.entry.end")
    assert (expired["plate"], expired["data"]["owner"]) == ("8XYZ999", "ada.admin")
    assert expired["case_number"] == "26-004512"


def test_entry_refusals(client: FlaskClient, token_for: TokenFor) -> None:
    token = token_for("analyst")
    base = {"plate": "5GHI789", "category": "stolen_plate", "reason": "x",
            "case_number": "26-1", "expires_at": "2099-01-01T00:00"}
    for change, field in (({"category": "curiosity"}, "category"),
                          ({"plate": "5G-HI!"}, "plate"),
                          ({"case_number": ""}, "case_number"),
                          ({"expires_at": "2001-01-01T00:00"}, "expires_at")):
        refused = client.post("/api/v1/hotlists/robbery-26/entries", headers=bearer(token),
                              json={**base, **change})
        assert refused.status_code == 400 and refused.get_json()["field"] == field, change
    official = client.post("/api/v1/hotlists/CA-SVS/entries", headers=bearer(token), json=base)
    assert official.status_code == 400 and official.get_json()["field"] == "list_name"
    missing = client.post("/api/v1/hotlists/robbery-26/entries/5GHI789/expiry",
                          headers=bearer(token), json={"reason": "recovered"})
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
