"""Helpers shared by the web and compliance tests (not fixtures: tests/web_fixtures.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from totp_codes import next_code

from controller.accounts import users
from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo

PASSWORD = "Correct-Horse-Battery-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def app_with(settings: Settings, engine: Engine) -> Iterator[Auth]:
    """A web application of its own on ``settings`` (a variant of the fixture's), with
    its signing-in helper; its loop is closed after."""
    from web import create_app
    loop = asyncio.new_event_loop()
    try:
        app = create_app(settings, Bridge(loop), engine=engine, metrics=Metrics())
        yield Auth(app, app.test_client(), engine)
    finally:
        loop.close()


def actions(engine: Engine, action: str) -> list[str]:
    """Outcomes of the audit entries with this action, oldest first."""
    return [str(r["outcome"]) for r in reversed(audit_repo.search(engine, action=action))]


class Auth:
    """Makes users and signs them in through the real forms."""

    def __init__(self, app: Flask, client: FlaskClient, engine: Engine) -> None:
        self.app, self.client, self.engine = app, client, engine
        self.secrets: dict[str, str] = {}

    def make_user(self, username: str, role: str, *, trained: bool = True,
                  enrolled: bool = True, password: str = PASSWORD) -> dict[str, Any]:
        """Create a user directly (admin work is tested elsewhere)."""
        users.add_user(self.engine, self.app.config["SIGHTLINE_SETTINGS"].security,
                       username=username, role=role, password=password, actor="test")
        user = dict(user_repo.get(self.engine, username))
        if trained:
            users.record_training(self.engine, username=username, course="ALPR 462",
                                  completed_on=date.today() - timedelta(days=1),
                                  trainer="Sgt. Trainer", actor="test")
        if enrolled:
            secret = pyotp.random_base32()
            account_repo.set_totp(self.engine, int(user["id"]), secret, enrolled=True)
            self.secrets[username] = secret
        return user

    def csrf(self) -> str:
        """The client's CSRF token (fetching the login page first if it has none)."""
        with self.client.session_transaction() as sess:
            token = sess.get("csrf")
        if token is None:
            page = self.client.get("/login").get_data(as_text=True)
            match = CSRF.search(page)
            assert match, "login page has no CSRF field"
            return match.group(1)
        return str(token)

    def code(self, username: str) -> str:
        """A TOTP code for this user that the server accepts now and has not seen used."""
        return next_code(self.engine, username, self.secrets[username])

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form with the CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf(), **(data or {})}, **kw)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Sign in with password and TOTP; return the last response."""
        response = self.post("/login", {"username": username, "password": password,
                                        "banner_ack": "yes"})
        if response.status_code != 302 or not response.location.endswith("/login/code"):
            return response
        return self.post("/login/code", {"code": self.code(username)})

    def state_purpose(self, purpose: str = "Stolen vehicle investigation",
                      case_number: str = "26-004512", **extra: str) -> Any:
        """State the purpose and case number that cover the user's views (462.5)."""
        return self.post("/purpose", {"purpose": purpose, "case_number": case_number,
                                      "attest": "yes", **extra})

    def logout(self) -> Any:
        """Sign out."""
        return self.post("/logout")
