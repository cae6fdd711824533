"""Compliance fixtures: the web fixtures (tests/web_fixtures.py) and a small world."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from controller.settings import Settings


@pytest.fixture(autouse=True)
def _cheap_argon2(cheap_argon2: None) -> None:
    """Every compliance test hashes passwords with small argon2 parameters."""


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, Any]:
    """One site with one camera (a privacy mask and a recognition zone)."""
    from compliance_world import make_world

    return make_world(engine, settings)
