"""Web fixtures in the style of Flask's tutorial: ``app``, ``client`` and ``auth``.

A pytest plugin module (``pytest_plugins`` in tests/conftest.py), so that every
test folder that drives the web application (tests/web, tests/compliance) shares
one definition. ``cheap_argon2`` is not autouse: a folder opts in from its conftest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import users
from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the tests hash hundreds of passwords on 2 cores.

    Hashes carry their own parameters, so verification is the production code path;
    tests/controller/test_users.py checks the production parameters.
    """
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[Flask]:
    """The application on the test database; its bridge's loop never runs."""
    from web import create_app  # only the tests that use the application load it

    loop = asyncio.new_event_loop()
    application = create_app(settings, Bridge(loop), engine=engine, metrics=Metrics(),
                             secret_key="test-secret")
    application.config["TESTING"] = True
    yield application
    loop.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (keeps cookies between requests)."""
    return app.test_client()


@pytest.fixture
def auth(app: Flask, client: FlaskClient, engine: Engine) -> Auth:
    """Sign-in helper bound to ``client``."""
    return Auth(app, client, engine)
