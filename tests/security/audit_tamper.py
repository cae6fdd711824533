"""What an insider with database access (but not the audit key) does to the audit log."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, text

from controller import audit

DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"],
}


def fill(engine: Engine, n: int, prefix: str = "7ABC") -> list[int]:
    """Append ``n`` searches; return their sequence numbers."""
    return [audit.record(engine, audit.AuditEvent(
        actor="officer.lee", action="search.exact", plate=f"{prefix}{i:03d}",
        purpose="Stolen vehicle investigation", case_number=f"24-{i}",
        client_addr="127.0.0.1", data={"results": i})) for i in range(n)]


def tamper(engine: Engine, statements: Iterable[str], params: dict[str, object] | None = None
           ) -> None:
    """Drop the append-only guard, then run ``statements`` (one transaction)."""
    with engine.begin() as conn:
        for guard in DROP_GUARDS[engine.dialect.name]:
            conn.execute(text(guard))
        for statement in statements:
            conn.execute(text(statement), params or {})
