"""Helpers shared by the web tests (not fixtures)."""

from __future__ import annotations

from sqlalchemy import Engine

from controller.store import audit as audit_repo


def actions(engine: Engine, action: str) -> list[str]:
    """Outcomes of the audit entries with this action, oldest first."""
    return [str(r["outcome"]) for r in reversed(audit_repo.search(engine, action=action))]
