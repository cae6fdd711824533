"""The probe campaign's request-forgery, session and traversal cases, kept as tests.

Every POST route is walked (a new route is covered without editing this file); the
role walk itself is tests/web/test_web_access.py, against a table written from the
policy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions

SAMPLE_ARGS = {"username": "walk.target", "filename": "app.css",
               "read_uuid": "00000000-0000-4000-8000-000000000001",
               "hit_uuid": "00000000-0000-4000-8000-000000000002", "kind": "crop",
               "camera_id": 1, "site_code": "nosuchsite", "list_name": "nosuchlist",
               "search_id": 1, "hold_id": 1, "proposal_id": 1, "request_id": 1,
               "region_id": 1, "version_id": 1, "quarter": "2026Q1",
               "alert_id": 1, "code": "nosuchsite",
               "name": "nosuchclient", "plate": "7ABC123"}
TRAVERSALS = ["../secret.key", "..%2fsecret.key", "%2e%2e/secret.key", "%2e%2e%2fsecret.key",
              "....//secret.key", "..\\secret.key", "..%5csecret.key", "/etc/passwd",
              "%2fetc%2fpasswd", "..;/secret.key", "css/../../secret.key",
              "%252e%252e%252fsecret.key"]


def post_urls(app: Flask) -> list[str]:
    """A URL for every POST route the application serves."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" in (rule.methods or set()):
                missing = set(rule.arguments) - set(SAMPLE_ARGS)
                assert not missing, f"{rule.rule}: add sample values for {sorted(missing)}"
                urls.append(url_for(rule.endpoint, **{a: SAMPLE_ARGS[a] for a in rule.arguments}))
    return sorted(urls)


def test_every_post_route_refuses_a_missing_or_forged_token(app: Flask, auth: Auth,
                                                             client: FlaskClient,
                                                             engine: Engine) -> None:
    auth.make_user("ada.chief", "administrator")
    assert auth.login("ada.chief").status_code in (302, 303)
    every = post_urls(app)
    # The JSON API takes bearer tokens only: a signed-in browser's cookie (the thing a
    # forged cross-site request rides on) never authenticates it, token or no token.
    api = [url for url in every if url.startswith("/api/")]
    urls = [url for url in every if not url.startswith("/api/")]
    assert len(urls) > 20 and api  # the walk reaches the whole application
    for url in urls:
        for token in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data={**token, "username": "x", "plate": "7ABC123"})
            assert response.status_code == 400, (url, token, response.status_code)
    for url in api:
        for token in ({}, {"csrf_token": "forged"}):
            response = client.post(url, json={**token, "outcome": "confirmed"})
            assert response.status_code == 401, (url, token, response.status_code)
    assert actions(engine, "access.csrf") == ["denied"] * (2 * len(urls))


def test_the_session_cookie_is_http_only_strict_and_rotates_at_login(auth: Auth,
                                                                     client: FlaskClient) -> None:
    auth.make_user("ann.lee", "officer")
    client.get("/login")
    before = client.get_cookie("sightline_session")
    auth.login("ann.lee")
    after = client.get_cookie("sightline_session")
    assert after is not None and after.http_only and after.same_site == "Strict"
    assert before is None or before.value != after.value
    with client.session_transaction() as session:
        token = session.get("token")
    auth.logout()
    with client.session_transaction() as session:
        assert session.get("token") is None
    assert token is not None


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_paths_outside_the_static_folder_are_refused(client: FlaskClient,
                                                            path: str) -> None:
    # A doubled slash is first redirected (308) to the merged path, inside /static/ still.
    response = client.get(f"/static/{path}", follow_redirects=True)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert all(urlsplit(r.location).path.startswith("/static/") for r in response.history)
    body = response.get_data()
    assert b"root:" not in body and b"BEGIN" not in body
