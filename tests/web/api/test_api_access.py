"""Every API operation by every client role, trained owner or not, against Policy 462.

Written from the policy (as tests/web/test_web_access.py is for pages), never from
``controller/accounts/roles.py``. A client never holds the administrator role (462.3.1),
so the walk covers the four other roles; an untrained owner's client reaches nothing
(462.4.1). A refusal is 403 and leaves a denied entry under the client's name.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import PURPOSE, TokenFor, bearer
from flask import Flask
from sqlalchemy import Engine

from controller.store import audit as audit_repo

DATA = {"officer", "dispatcher", "analyst"}
API_POLICY: dict[str, set[str]] = {
    # Status and health: every trained user (462.4, 462.4.1); vendors see health (DESIGN).
    "api_v1.get_status": {"officer", "dispatcher", "analyst", "vendor"},
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
}


def _call(app: Flask, endpoint: str, token: str, world: dict[str, Any]) -> Any:
    client = app.test_client()
    args = {"get_read": {"read_uuid": world["reads"][0]},
            "get_read_image": {"read_uuid": world["reads"][0], "kind": "crop"},
            "get_hit": {"hit_uuid": world["hit"]},
            "verify_hit": {"hit_uuid": world["hit"]}}.get(endpoint.split(".")[1], {})
    with app.test_request_context():
        from flask import url_for
        url = url_for(endpoint, **args)
    if endpoint == "api_v1.verify_hit":
        return client.post(url, json={"outcome": "not_practicable"}, headers=bearer(token))
    return client.get(url, query_string={"plate": "7ABC123"}, headers=bearer(token, **PURPOSE))


def test_every_operation_is_classified(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api_v1.")}
    assert endpoints == set(API_POLICY)


@pytest.mark.parametrize("role", ["officer", "dispatcher", "analyst", "vendor"])
def test_role_walk(app: Flask, engine: Engine, token_for: TokenFor, world: dict[str, Any],
                   role: str) -> None:
    trained = token_for(role, name=f"walk-{role}")
    untrained = token_for(role, owner_trained=False, name=f"walk-{role}-u")
    for endpoint, who in API_POLICY.items():
        response = _call(app, endpoint, trained, world)
        if role in who:
            assert response.status_code == 200, f"{role} {endpoint}: {response.get_json()}"
        else:
            assert response.status_code == 403, f"{role} {endpoint}"
        assert _call(app, endpoint, untrained, world).status_code == 403, f"untrained {endpoint}"
    denied = audit_repo.search(engine, actor=f"client:walk-{role}", action="access.denied")
    assert len(denied) == sum(role not in who for who in API_POLICY.values())
