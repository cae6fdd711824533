"""Reads over the API (462.5, 462.7): searches, one read, its image, each under the purpose
headers and audited with the purpose, case number, client and owner; cursor pages."""

from __future__ import annotations

from typing import Any

from api_helpers import PROBLEM, PURPOSE, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.store import audit as audit_repo


def test_exact_search_is_audited_under_the_stated_purpose(
        client: FlaskClient, engine: Engine, token_for: TokenFor, world: dict[str, Any]) -> None:
    token = token_for("officer", name="rms-sync")
    response = client.get("/api/v1/reads", query_string={"plate": "7abc123"},
                          headers=bearer(token, **PURPOSE))
    body = response.get_json()
    assert response.status_code == 200
    # Two reads of the plate, and the hit's own read.
    assert {r["plate"] for r in body["items"]} == {"7ABC123"} and len(body["items"]) == 3
    assert (body["purpose"], body["case_number"]) == ("Stolen vehicle investigation",
                                                      "26-004512")
    (entry,) = audit_repo.search(engine, action="search.exact")
    assert (entry["actor"], entry["plate"], entry["case_number"]) == (
        "client:rms-sync", "7ABC123", "26-004512")
    assert entry["data"]["owner"] == "ada.admin" and entry["id"] == body["search_id"]


def test_missing_or_bad_purpose_is_refused_naming_the_header(
        client: FlaskClient, engine: Engine, token_for: TokenFor, world: dict[str, Any]) -> None:
    token = token_for("analyst")
    bad = client.get("/api/v1/reads", query_string={"plate": "7ABC123"},
                     headers=bearer(token, **{**PURPOSE, "Sightline-Purpose": "curiosity"}))
    assert bad.status_code == 400 and bad.mimetype == PROBLEM
    assert bad.get_json()["field"] == "purpose"
    no_case = client.get("/api/v1/reads", query_string={"plate": "7ABC123"},
                         headers=bearer(token, **{**PURPOSE, "Sightline-Case-Number": ""}))
    assert no_case.get_json()["field"] == "case_number"
    assert [e["outcome"] for e in audit_repo.search(engine, action="search.exact")] == [
        "denied", "denied"]


def test_partial_and_canvass_with_cursor_pages(client: FlaskClient, token_for: TokenFor,
                                               world: dict[str, Any]) -> None:
    token = token_for("officer")
    seen = []
    cursor = ""
    while True:
        page = client.get("/api/v1/reads", query_string={
            "mode": "partial", "plate": "7AB*", "limit": 2, "cursor": cursor},
            headers=bearer(token, **PURPOSE)).get_json()
        seen += [r["uuid"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 4
    canvass = client.get("/api/v1/reads", query_string={
        "mode": "canvass", "since": "2026-11-02T08:00", "until": "2026-11-02T09:00",
        "camera_ids": [str(world["camera"])]}, headers=bearer(token, **PURPOSE)).get_json()
    assert len(canvass["items"]) == 4
    bad = client.get("/api/v1/reads", query_string={"plate": "7ABC123", "cursor": "nope"},
                     headers=bearer(token, **PURPOSE))
    assert bad.status_code == 400 and bad.get_json()["field"] == "cursor"


def test_one_read_and_its_image(client: FlaskClient, engine: Engine, token_for: TokenFor,
                                world: dict[str, Any]) -> None:
    token = token_for("dispatcher", name="cad-bridge")
    read_uuid = world["reads"][0]
    read = client.get(f"/api/v1/reads/{read_uuid}", headers=bearer(token, **PURPOSE))
    assert read.status_code == 200 and read.get_json()["plate"] == "7ABC123"
    link = read.get_json()["images"]["crop"]
    image = client.get(link, headers=bearer(token, **PURPOSE))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.get_data()[:2] == b"\xff\xd8"
    missing = client.get(f"/api/v1/reads/{read_uuid}/images/overview",
                         headers=bearer(token, **PURPOSE))
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    for action in ("read.view", "image.view"):
        (entry,) = audit_repo.search(engine, action=action)
        assert (entry["actor"], entry["case_number"]) == ("client:cad-bridge", "26-004512")
    # One statement covered the three calls: the window was opened once.
    assert len(audit_repo.search(engine, action="purpose.state")) == 1
