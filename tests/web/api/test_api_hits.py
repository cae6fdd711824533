"""Hits over the API (462.7(7)): listed with filters and viewed under the purpose headers;
dispatch records the CLETS outcome once."""

from __future__ import annotations

from typing import Any

from api_helpers import PURPOSE, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo


def test_list_filter_view_and_verify(client: FlaskClient, engine: Engine, token_for: TokenFor,
                                     world: dict[str, Any]) -> None:
    token = token_for("dispatcher", name="cad-bridge")
    headers = bearer(token, **PURPOSE)
    listed = client.get("/api/v1/hits", query_string={"verification": "pending"},
                        headers=headers).get_json()
    assert [h["uuid"] for h in listed["items"]] == [world["hit"]]
    assert listed["items"][0]["notice"].startswith("UNVERIFIED")
    none = client.get("/api/v1/hits", query_string={"plate": "8XYZ999"},
                      headers=headers).get_json()
    assert none["items"] == [] and none["next_cursor"] is None
    one = client.get(f"/api/v1/hits/{world['hit']}", headers=headers).get_json()
    assert one["entry"]["category"] == "stolen_vehicle"
    done = client.post(f"/api/v1/hits/{world['hit']}/verification",
                       json={"outcome": "confirmed", "note": "CLETS 10-851"},
                       headers=bearer(token))
    assert done.status_code == 200 and done.get_json()["outcome"] == "confirmed"
    assert hit_repo.get_hit(engine, world["hit"])["verified_by"] == "client:cad-bridge"
    again = client.post(f"/api/v1/hits/{world['hit']}/verification",
                        json={"outcome": "not_confirmed"}, headers=bearer(token))
    assert again.status_code == 400 and again.get_json()["field"] == "outcome"
    (entry,) = [e for e in audit_repo.search(engine, action="hit.verify")
                if e["outcome"] == "allowed"]
    assert entry["data"]["client"] == "cad-bridge" and entry["data"]["owner"] == "ada.admin"


def test_officers_see_hits_but_do_not_verify(client: FlaskClient, token_for: TokenFor,
                                             world: dict[str, Any]) -> None:
    token = token_for("officer")
    assert client.get("/api/v1/hits", headers=bearer(token, **PURPOSE)).status_code == 200
    refused = client.post(f"/api/v1/hits/{world['hit']}/verification",
                          json={"outcome": "confirmed"}, headers=bearer(token))
    assert refused.status_code == 403
    bad = client.post(f"/api/v1/hits/{world['hit']}/verification",
                      json={"outcome": "maybe"}, headers=bearer(token_for("dispatcher")))
    assert bad.status_code == 400 and bad.get_json()["field"] == "outcome"
