"""Compliance fixtures: the web fixtures of tests/web (app, client, auth) and a small world."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from controller.settings import Settings

_WEB_CONFTEST = Path(__file__).resolve().parent.parent / "web" / "conftest.py"
# The web conftest imports its helper modules by name, as pytest's rootdir-less import
# mode allows inside tests/web; make them importable from here too (lowest priority).
if str(_WEB_CONFTEST.parent) not in sys.path:
    sys.path.append(str(_WEB_CONFTEST.parent))
_spec = importlib.util.spec_from_file_location("sightline_web_fixtures", _WEB_CONFTEST)
assert _spec is not None and _spec.loader is not None
_web = importlib.util.module_from_spec(_spec)
sys.modules["sightline_web_fixtures"] = _web
_spec.loader.exec_module(_web)

app = _web.app
client = _web.client
auth = _web.auth
_cheap_argon2 = _web._cheap_argon2


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, Any]:
    """One site with one camera (a privacy mask and a recognition zone)."""
    from compliance_world import make_world

    return make_world(engine, settings)
