"""Web tests: the shared fixtures ``app``, ``client`` and ``auth`` are in tests/web_fixtures.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _cheap_argon2(cheap_argon2: None) -> None:
    """Every web test hashes passwords with small argon2 parameters (see cheap_argon2)."""
