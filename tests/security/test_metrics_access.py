"""L3: /metrics answers loopback scrapers and holders of the bearer token, nobody else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine

from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings
from web import create_app
from web.app import METRICS_ENV

TOKEN = "s3cret-scrape-token-0123456789"
REMOTE = {"REMOTE_ADDR": "192.0.2.50"}
# Present once any request was served (each client below makes one first); stands for
# the camera, site and failed-login metrics that must not leak.
SENSITIVE = "sightline_http_requests_total"
Build = Callable[[str | None], Flask]


@pytest.fixture
def make_app(settings: Settings, engine: Engine,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Build]:
    """Build the application with the token variable set (a str) or unset (None)."""
    loops: list[asyncio.AbstractEventLoop] = []

    def build(token: str | None) -> Flask:
        if token is None:
            monkeypatch.delenv(METRICS_ENV, raising=False)
        else:
            monkeypatch.setenv(METRICS_ENV, token)
        loops.append(asyncio.new_event_loop())
        app = create_app(settings, Bridge(loops[-1]), engine=engine, metrics=Metrics(),
                         secret_key="k" * 64)
        app.test_client().get("/healthz")
        return app

    yield build
    for loop in loops:
        loop.close()


def test_loopback_reads_metrics_without_a_token(make_app: Build) -> None:
    for token in (None, TOKEN):
        client = make_app(token).test_client()
        for address in ("127.0.0.1", "::1"):
            answer = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
            assert answer.status_code == 200
            assert SENSITIVE in answer.get_data(as_text=True)


def test_remote_without_a_configured_token_gets_404(make_app: Build) -> None:
    client = make_app(None).test_client()
    answer = client.get("/metrics", environ_base=REMOTE)
    assert answer.status_code == 404
    assert SENSITIVE not in answer.get_data(as_text=True)
    # A bearer header is no key when no token is configured.
    answer = client.get("/metrics", environ_base=REMOTE,
                        headers={"Authorization": "Bearer "})
    assert answer.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Bearer {TOKEN[:-1]}",
                                    f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN])
def test_remote_with_a_wrong_or_missing_token_gets_401(make_app: Build,
                                                       header: str | None) -> None:
    client = make_app(TOKEN).test_client()
    headers = {"Authorization": header} if header else {}
    answer = client.get("/metrics", environ_base=REMOTE, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert SENSITIVE not in answer.get_data(as_text=True)


def test_remote_with_the_token_reads_metrics(make_app: Build) -> None:
    client = make_app(TOKEN).test_client()
    answer = client.get("/metrics", environ_base=REMOTE,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert SENSITIVE in answer.get_data(as_text=True)


def test_a_forged_forwarded_for_does_not_make_a_request_local(make_app: Build) -> None:
    client = make_app(None).test_client()
    answer = client.get("/metrics", environ_base=REMOTE,
                        headers={"X-Forwarded-For": "127.0.0.1"})
    assert answer.status_code == 404
