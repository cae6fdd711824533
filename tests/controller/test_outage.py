"""The store tells a lost database (StoreUnavailable) from a refused statement, by type."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from controller.errors import StoreUnavailable
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.outage import OutageLog, refused


def test_a_database_that_cannot_answer_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_ms=50)
    upgrade(engine)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        with pytest.raises(StoreUnavailable, match="database is locked") as raised:
            sites.create_site(engine, code="S1", name="s")
        assert type(raised.value.__cause__).__name__ == "OperationalError"
        assert not refused(raised.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    missing = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    (tmp_path / "no" / "such" / "dir").rmdir()  # make_engine created it; now it is gone
    try:
        with pytest.raises(StoreUnavailable, match="unable to open"), missing.connect():
            pass
    finally:
        missing.dispose()


def test_a_refused_statement_is_not_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    try:
        with pytest.raises(Exception) as raised, engine.begin() as conn:
            conn.execute(text("INSERT INTO cameras (site_id, name, host) VALUES (99, 'c', 'h')"))
        assert not isinstance(raised.value, StoreUnavailable)
        assert refused(raised.value)
    finally:
        engine.dispose()


def test_an_outage_is_logged_once_with_its_cause_and_its_end_once(
        caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger("test.outage"), "health write", "kept in memory")
    with caplog.at_level(logging.INFO, "test.outage"):
        outage.succeeded()
        for _ in range(3):
            outage.failed(StoreUnavailable("database unavailable (OperationalError: gone)"))
        assert outage.failing
        outage.succeeded()
        outage.succeeded()
        outage.failed(KeyError("bug"))
    messages = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert messages[0] == ("ERROR", "health write failed: StoreUnavailable: database "
                           "unavailable (OperationalError: gone); kept in memory", False)
    assert messages[1][0] == "WARNING" and "(3 failed attempts)" in messages[1][1]
    assert messages[2] == ("ERROR", "health write failed: KeyError: 'bug'; kept in memory",
                           True)  # not an outage: the traceback is worth one entry
    assert len(messages) == 3
