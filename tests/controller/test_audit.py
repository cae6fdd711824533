"""The hash-chained, append-only audit log (policy 462.5) on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text

from controller import audit
from controller.store import audit as repo

DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER audit_events_append_only ON audit_events"],
}


def fill(engine: Engine, n: int) -> None:
    for i in range(n):
        audit.record(engine, audit.AuditEvent(
            actor="officer.lee", action="search.exact", plate=f"7ABC{i:03d}",
            purpose="Stolen vehicle investigation", case_number=f"24-{i}",
            client_addr="127.0.0.1", data={"results": i}))


def tamper(engine: Engine, sql: str) -> None:
    """What someone with database access would do: drop the guard, then edit."""
    with engine.begin() as conn:
        for statement in DROP_GUARDS[engine.dialect.name]:
            conn.execute(text(statement))
        conn.execute(text(sql))


def test_intact_chain_verifies(engine: Engine) -> None:
    fill(engine, 5)
    report = audit.verify(engine)
    assert report.ok and report.rows == 5
    rows = list(repo.scan(engine))
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert rows[2]["plate"] == "7ABC002" and rows[2]["at"].tzinfo is not None


def test_event_carries_every_element_of_462_5(engine: Engine) -> None:
    audit.record(engine, audit.AuditEvent(
        actor="analyst.kim", action="search.partial", outcome="denied", plate="7AB*12?",
        purpose="Major incident canvass", case_number="24-001234", client_addr="10.0.0.7"))
    row = repo.search(engine, actor="analyst.kim")[0]
    assert (row["action"], row["outcome"], row["plate"]) == ("search.partial", "denied", "7AB*12?")
    assert (row["purpose"], row["case_number"], row["client_addr"]) == (
        "Major incident canvass", "24-001234", "10.0.0.7")
    assert row["at"].utcoffset().total_seconds() == 0


def test_database_refuses_update_and_delete(engine: Engine) -> None:
    fill(engine, 1)
    for sql in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert audit.verify(engine).ok


def test_edited_row_is_named(engine: Engine) -> None:
    fill(engine, 6)
    tamper(engine, "UPDATE audit_events SET plate = 'NOTME' WHERE id = 4")
    report = audit.verify(engine)
    assert not report.ok and report.first_broken_id == 4
    assert "hash" in report.reason


def test_removed_row_is_named(engine: Engine) -> None:
    fill(engine, 6)
    tamper(engine, "DELETE FROM audit_events WHERE id = 3")
    report = audit.verify(engine)
    assert not report.ok and report.first_broken_id == 3


def test_rows_cut_from_the_end_are_found(engine: Engine) -> None:
    fill(engine, 6)
    tamper(engine, "DELETE FROM audit_events WHERE id >= 5")
    report = audit.verify(engine)
    assert not report.ok and report.first_broken_id == 5


def test_rehashed_forgery_without_the_key_is_named(engine: Engine) -> None:
    fill(engine, 4)
    row = dict(next(r for r in repo.scan(engine) if r["id"] == 2))
    row["plate"] = "FORGED1"
    forged = audit.legacy_hash(row["prev_hash"], row)
    tamper(engine, f"UPDATE audit_events SET plate = 'FORGED1', hash = '{forged}' WHERE id = 2")
    report = audit.verify(engine)
    assert not report.ok and report.first_broken_id == 2
    assert "keyed HMAC" in report.reason


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    threads, per_thread = 8, 15
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            audit.record(engine, audit.AuditEvent(actor=f"user{n}", action="view.read",
                                                  data={"i": i}))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(writer, range(threads)))
    report = audit.verify(engine)
    assert report.ok, report
    assert report.rows == threads * per_thread == repo.count(engine)
    assert repo.head(engine)[0] == threads * per_thread


def test_bad_outcome_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="outcome"):
        audit.record(engine, audit.AuditEvent(actor="a", action="b", outcome="maybe"))  # type: ignore[arg-type]
    assert repo.count(engine) == 0
