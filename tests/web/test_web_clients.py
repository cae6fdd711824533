"""The administrator's API client page (issue 17, point 3): add (token shown once), list, revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from controller.accounts import clients
from controller.accounts.clients import ClientRefused
from controller.settings import Settings
from controller.store import audit as audit_repo

LAST_DAY = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
TOKEN = re.compile(r'<code id="token-value">(slc_[A-Za-z0-9_-]+)</code>')


def test_add_shows_the_token_once_and_revoke_stops_it(auth: Any, engine: Engine,
                                                      settings: Settings) -> None:
    auth.make_user("ada.admin", "administrator")
    auth.login("ada.admin")
    page = auth.post("/admin/clients", {"name": "rms-sync", "role": "analyst",
                                        "expires": LAST_DAY})
    assert page.status_code == 200
    (token,) = TOKEN.findall(page.get_data(as_text=True))
    caller = clients.resolve(engine, settings.security, token, client_addr="127.0.0.1")
    assert (caller.role, caller.owner) == ("analyst", "ada.admin")
    listing = auth.client.get("/admin/clients").get_data(as_text=True)
    assert "rms-sync" in listing and token not in listing and "ada.admin" in listing
    assert auth.post("/admin/clients/rms-sync/revoke").status_code == 303
    assert "revoked" in auth.client.get("/admin/clients").get_data(as_text=True)
    try:
        clients.resolve(engine, settings.security, token, client_addr="127.0.0.1")
        raise AssertionError("a revoked token resolved")
    except ClientRefused:
        pass
    assert [e["outcome"] for e in audit_repo.search(engine, action="client.revoke")] == [
        "allowed"]


def test_administrator_role_is_refused_naming_the_field(auth: Any, engine: Engine) -> None:
    auth.make_user("ada.admin", "administrator")
    auth.login("ada.admin")
    page = auth.post("/admin/clients", {"name": "root-bot", "role": "administrator",
                                        "expires": LAST_DAY})
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    assert "Role: an API client can never hold the administrator role" in body
    assert 'value="root-bot"' in body and "slc_" not in body
