"""L1: HTTPS served directly with HSTS, and client addresses believed only from a trusted proxy.

Each test runs the real web server on loopback and speaks to it with httpx.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from certs import self_signed
from sqlalchemy import Engine

from controller.accounts import sessions, users
from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings, WebSettings
from controller.store import audit as audit_repo
from web.server import WebServer, make_web_service

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CLIENT = "203.0.113.7"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small argon2 parameters: the unknown-name path verifies a dummy hash."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    monkeypatch.setattr(sessions, "_dummy_hash", lambda: users.hash_password("not-a-password"))


@contextmanager
def serving(settings: Settings, engine: Engine, **web: Any) -> Iterator[tuple[str, WebServer]]:
    """The application with ``web`` settings changed, served on a free loopback port."""
    changed = settings.model_copy(update={"web": WebSettings(
        **{**settings.web.model_dump(), "port": 0, **web})})
    loop = asyncio.new_event_loop()
    # The controller's own start step: settings in, the right server out.
    server = make_web_service(changed, Bridge(loop), engine, Metrics(), "k" * 64)
    server.start()
    scheme = "https" if changed.web.tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.port}", server
    finally:
        server.stop()
        loop.close()


def _failed_login_from(base: str, headers: dict[str, str],
                       verify: ssl.SSLContext | bool = True) -> None:
    with httpx.Client(base_url=base, verify=verify, timeout=20) as http:
        token = CSRF.search(http.get("/login").text)
        assert token
        answer = http.post("/login", headers=headers, data={
            "csrf_token": token.group(1), "username": "no.such.user",
            "password": "wrong-password-1", "banner_ack": "yes"})
        assert answer.status_code == 401


def _last_failed_login_address(engine: Engine) -> str | None:
    rows = audit_repo.search(engine, action="login.failed")
    return None if not rows[0]["client_addr"] else str(rows[0]["client_addr"])


def test_a_trusted_proxy_names_the_client(settings: Settings, engine: Engine) -> None:
    with serving(settings, engine, trusted_proxy="127.0.0.1") as (base, _):
        _failed_login_from(base, {"X-Forwarded-For": f"198.51.100.9, {CLIENT}",
                                  "X-Forwarded-Proto": "https"})
    # The proxy's own hop (the last one) is the client it saw; earlier ones are hearsay.
    assert _last_failed_login_address(engine) == CLIENT


def test_forwarded_headers_from_anyone_else_are_ignored(settings: Settings,
                                                        engine: Engine) -> None:
    with serving(settings, engine, trusted_proxy=["192.0.2.10", "192.0.2.11"]) as (base, _):
        _failed_login_from(base, {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"})
    assert _last_failed_login_address(engine) == "127.0.0.1"
    with serving(settings, engine) as (base, _):
        _failed_login_from(base, {"X-Forwarded-For": CLIENT})
    assert _last_failed_login_address(engine) == "127.0.0.1"


def test_https_served_directly_with_hsts_and_secure_cookies(settings: Settings, engine: Engine,
                                                            tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    with serving(settings, engine, tls_certificate=cert, tls_key=key) as (base, _):
        assert base.startswith("https://")
        with httpx.Client(base_url=base, verify=trust, timeout=20) as http:
            page = http.get("/login")
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "secure" in page.headers["Set-Cookie"].lower()
        _failed_login_from(base, {}, verify=trust)
        with pytest.raises(httpx.HTTPError), httpx.Client(timeout=20) as plain:
            plain.get(base.replace("https://", "http://") + "/login")
    assert _last_failed_login_address(engine) == "127.0.0.1"


def test_plain_http_sends_no_hsts(settings: Settings, engine: Engine) -> None:
    with serving(settings, engine) as (base, _), httpx.Client(base_url=base) as http:
        page = http.get("/login")
    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page.headers


def test_certificate_and_key_come_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        WebSettings(tls_certificate=tmp_path / "cert.pem")
    with pytest.raises(ValueError):
        WebSettings(trusted_proxy="*")
    assert WebSettings(trusted_proxy="10.0.0.2").trusted_proxy == ["10.0.0.2"]
