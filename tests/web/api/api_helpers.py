"""Helpers the JSON API tests share (fixtures are in this folder's conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

PURPOSE = {"Sightline-Purpose": "Stolen vehicle investigation",
           "Sightline-Case-Number": "26-004512", "Sightline-Attest": "yes"}
LAST_DAY = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
PROBLEM = "application/problem+json"
# When the world fixture's reads were made (UTC).
SEEN = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)

TokenFor = Callable[..., str]


def bearer(token: str, **extra: str) -> dict[str, str]:
    """The headers of a call with this token (and any others)."""
    return {"Authorization": f"Bearer {token}", **extra}
