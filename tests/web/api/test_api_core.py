"""The API's foundation (issue 17): bearer tokens only, problems naming the field, the role
table and training gate as for users, every call in the access log, the generated document."""

from __future__ import annotations

from typing import Any

from api_helpers import PROBLEM, PURPOSE, TokenFor, bearer
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import clients
from controller.alerts import dispatch
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from web.api.spec import HitPayload, MqttHitPayload


def test_document_is_openapi_31_and_validates(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert {"/api/v1/status", "/api/v1/reads", "/api/v1/reads/{read_uuid}",
            "/api/v1/hits", "/api/v1/hits/{hit_uuid}/verification"} <= set(doc["paths"])
    hook = doc["webhooks"]["hit"]["post"]
    assert dispatch.SIGNATURE_HEADER in hook["description"]
    assert {p["name"] for p in hook["parameters"]} == {
        dispatch.SIGNATURE_HEADER, dispatch.TIMESTAMP_HEADER, dispatch.IDEMPOTENCY_HEADER}
    assert "hitMqtt" in doc["webhooks"]


def test_webhook_schema_is_what_dispatch_sends(engine: Engine, world: dict[str, Any]) -> None:
    """The document's payload models accept exactly what hit_payload builds (extra=forbid)."""
    row = hit_repo.get_hit(engine, world["hit"])
    payload = dispatch.hit_payload(row, "https://sightline.example")
    assert HitPayload.model_validate(payload).hit_id == world["hit"]
    MqttHitPayload.model_validate({**payload, "idempotency_key": "k-1"})


def test_docs_page_uses_installed_assets_under_the_strict_csp(client: FlaskClient) -> None:
    page = client.get("/api/v1/swagger")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in body and "http" not in body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    asset = client.get("/api/v1/swagger/js/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.get_data()) > 100_000
    asset.close()


def test_no_token_bad_token_and_a_session_cookie_are_refused(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/status", headers=bearer("slc_nope")).status_code == 401
    # A signed-in administrator's browser: its cookie is not a credential here.
    auth.make_user("ada.admin", "administrator")
    auth.login("ada.admin")
    assert client.get("/api/v1/status").status_code == 401
    # No CSRF token is asked of a token-authenticated call, nor accepted instead of one.
    assert client.post(f"/api/v1/hits/{'0' * 8}-0000-4000-8000-000000000002/verification",
                       json={"outcome": "confirmed"}).status_code == 401


def test_a_call_is_logged_under_client_and_owner(client: FlaskClient, engine: Engine,
                                                 token_for: TokenFor) -> None:
    token = token_for("officer", name="rms-sync")
    response = client.get("/api/v1/status", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["client"] == "rms-sync"
    (entry,) = audit_repo.search(engine, action="api.call")
    assert entry["actor"] == "client:rms-sync"
    assert (entry["data"]["client"], entry["data"]["owner"]) == ("rms-sync", "ada.admin")
    assert entry["data"]["path"] == "/api/v1/status" and entry["data"]["status"] == 200


def test_revoked_and_untrained_owner(client: FlaskClient, engine: Engine, auth: Auth,
                                     token_for: TokenFor) -> None:
    token = token_for("dispatcher", name="cad-bridge")
    assert client.get("/api/v1/status", headers=bearer(token)).status_code == 200
    admin = clients.resolve(engine, auth.app.config["SIGHTLINE_SETTINGS"].security, token,
                            client_addr=None)
    owner = type(admin)(username="ada.admin", role="administrator", user_id=admin.user_id,
                        gate_ok=True)
    clients.revoke_client(engine, owner, "cad-bridge")
    refused = client.get("/api/v1/status", headers=bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]
    untrained = token_for("dispatcher", owner_trained=False)
    gated = client.get("/api/v1/status", headers=bearer(untrained))
    assert gated.status_code == 403 and "training" in gated.get_json()["detail"]


def test_role_table_applies_and_refusals_are_audited(client: FlaskClient, engine: Engine,
                                                     token_for: TokenFor,
                                                     world: dict[str, Any]) -> None:
    vendor = token_for("vendor", name="cam-service")
    refused = client.get("/api/v1/hits", headers=bearer(vendor, **PURPOSE))
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    (denied,) = audit_repo.search(engine, action="access.denied")
    assert denied["actor"] == "client:cam-service" and denied["data"]["owner"] == "ada.admin"
    dispatcher = token_for("dispatcher")
    assert client.get("/api/v1/reads", query_string={"plate": "7ABC123"},
                      headers=bearer(dispatcher, **PURPOSE)).status_code == 403


def test_schema_refusals_name_the_field(client: FlaskClient, token_for: TokenFor,
                                        world: dict[str, Any]) -> None:
    token = token_for("officer")
    response = client.get("/api/v1/hits", query_string={"limit": "0"},
                          headers=bearer(token, **PURPOSE))
    body = response.get_json()
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert body["field"] == "limit" and body["errors"][0]["field"] == "limit"
    no_purpose = client.get("/api/v1/hits", headers=bearer(token))
    assert no_purpose.status_code == 400
    assert no_purpose.get_json()["field"].startswith("Sightline-")


def test_unknown_path_or_method_under_the_api_is_a_problem(client: FlaskClient,
                                                          token_for: TokenFor) -> None:
    token = token_for("officer")
    for path in ("/api/v1/nothing-here", "/api/v1/reads/x/y/z"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404 and response.mimetype == PROBLEM, path
        assert response.get_json()["status"] == 404
    wrong = client.delete("/api/v1/status", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM
    # The HTML UI keeps its own page.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
