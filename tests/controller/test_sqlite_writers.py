"""SQLite: a write transaction that reads first is not refused when another commits.

Begun DEFERRED, a transaction that has read holds a snapshot; if another connection
commits a write in the meantime, SQLite refuses its first write at once with
"database is locked" (the busy timeout cannot help). The web answered four users'
searches with 500s that way (each search ends any open purpose window, then opens
one). ``engine.begin()`` takes the write lock at BEGIN on SQLite, so writers queue.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from controller.accounts import users as accounts
from controller.settings import SecuritySettings
from controller.store import purpose
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import purpose_windows

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_read_then_write_transactions_queue_instead_of_failing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sightline.db'}", pool_size=4)
    try:
        upgrade(engine)
        accounts.add_user(engine, SecuritySettings(), username="ann.lee", role="analyst",
                          password="correct horse battery staple 9", actor="t")
        user = user_repo.get(engine, "ann.lee")
        assert user is not None
        user_id = int(user["id"])
        read_done, other_tried = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def first() -> None:
            try:
                with engine.begin() as conn:
                    conn.execute(select(func.count()).select_from(purpose_windows)).scalar()
                    read_done.set()
                    # The other writer gets its chance to commit before this one writes.
                    other_tried.wait(2)
                    conn.execute(purpose_windows.insert().values(
                        user_id=user_id, purpose="first", started_at=NOW,
                        expires_at=NOW + timedelta(hours=1)))
            except BaseException as exc:  # reported by the test below
                errors.append(exc)

        def second() -> None:
            try:
                read_done.wait(10)
                timer = threading.Timer(0.5, other_tried.set)
                timer.start()
                purpose.start(engine, user_id=user_id, purpose="second", case_number=None,
                              now=NOW, expires_at=NOW + timedelta(hours=1), client_addr=None)
                timer.join()
            except BaseException as exc:
                errors.append(exc)
            finally:
                other_tried.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        with engine.connect() as conn:
            purposes = sorted(conn.execute(select(purpose_windows.c.purpose)).scalars())
        assert purposes == ["first", "second"]
    finally:
        engine.dispose()
