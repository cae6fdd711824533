"""Every route, every role, and an anonymous client, against controller/accounts/roles.py.

The expected outcome is computed from the one allow table; a route without a
permission, or with an argument this walk cannot fill, fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.routing import Rule

from controller.accounts import roles
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from web.security import permission_of

# Sample values for URL arguments; a new argument name must be added here.
SAMPLE_ARGS: dict[str, Any] = {
    "username": "walk.target",
    "filename": "app.css",
    "read_uuid": "00000000-0000-4000-8000-000000000001",
    "hit_uuid": "00000000-0000-4000-8000-000000000002",
    "kind": "crop",
    "camera_id": 1,
    "site_code": "nosuchsite",
    "list_name": "nosuchlist",
}
# Routes that end the walker's session or account state; each gets a fresh user.
ENDS_SESSION = {"auth.logout", "auth.compromised"}


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) for every route the application serves."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda rm: (rm[0].endpoint in ENDS_SESSION, rm[0].rule, rm[1]))


def url_for_rule(app: Flask, rule: Rule) -> str:
    missing = set(rule.arguments) - set(SAMPLE_ARGS)
    assert not missing, f"{rule.rule}: add sample values for {sorted(missing)}"
    with app.test_request_context():
        from flask import url_for

        url = url_for(rule.endpoint, **{k: SAMPLE_ARGS[k] for k in rule.arguments})
    return url


def call(auth: Any, method: str, url: str) -> Any:
    if method == "GET":
        response = auth.client.get(url)
    elif method == "POST":
        response = auth.post(url, {})
    else:
        response = auth.client.open(url, method=method, headers={"X-CSRF-Token": auth.csrf()})
    response.close()  # static files stream from an open file
    return response


def test_every_route_declares_a_known_permission(app: Flask) -> None:
    for rule, _method in routes(app):
        perm = permission_of(app, rule.endpoint)
        assert perm is not None, f"{rule.rule} ({rule.endpoint}) declares no permission"
        assert perm in roles.PERMISSIONS, f"{rule.rule}: unknown permission {perm}"


def test_anonymous(app: Flask, auth: Any) -> None:
    for rule, method in routes(app):
        perm = permission_of(app, rule.endpoint)
        url = url_for_rule(app, rule)
        response = call(auth, method, url)
        where = f"anonymous {method} {url}"
        if perm == "public":
            assert response.status_code not in (401, 403), where
            assert "/login?next" not in (response.location or ""), where
        elif method == "GET":
            assert response.status_code == 302, where
            assert response.location.startswith("/login?next="), where
        else:
            assert response.status_code == 401, where


def _walker(auth: Any, engine: Engine, role: str, name: str, trained: bool) -> None:
    user = auth.make_user(name, role, trained=trained, enrolled=False)
    account_repo.set_user_flags(engine, int(user["id"]), totp_exempt=True)
    response = auth.login(name)
    assert response.status_code == 302, f"{name} could not sign in"


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("trained", [True, False], ids=["trained", "untrained"])
def test_role_walk(app: Flask, auth: Any, engine: Engine, role: str, trained: bool) -> None:
    auth.make_user("walk.target", "officer")
    _walker(auth, engine, role, "walk.user", trained)
    serial = 0
    for rule, method in routes(app):
        perm = permission_of(app, rule.endpoint)
        if rule.endpoint in ENDS_SESSION:
            serial += 1
            auth.client = app.test_client()
            _walker(auth, engine, role, f"walk.user{serial}", trained)
        url = url_for_rule(app, rule)
        response = call(auth, method, url)
        where = f"{role} ({'trained' if trained else 'untrained'}) {method} {url} [{perm}]"
        expect_allowed = roles.allowed(perm, role) and (trained or not roles.needs_training(
            str(perm)))
        if expect_allowed:
            assert response.status_code not in (401, 403), where
            assert "/login?next" not in (response.location or ""), where
        else:
            assert response.status_code == 403, where
    denied = audit_repo.search(engine, action="access.denied", limit=1000)
    assert all(row["outcome"] == "denied" for row in denied)
    expected_denials = sum(
        1 for rule, _m in routes(app)
        if not (roles.allowed(permission_of(app, rule.endpoint), role)
                and (trained or not roles.needs_training(str(permission_of(app, rule.endpoint)))))
    )
    assert len(denied) == expected_denials
