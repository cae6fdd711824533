"""Engines for the system of record: SQLite (WAL) embedded, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from controller.permissions import private_dir, private_file
from controller.store.outage import translate_outages

# Execution option naming how a SQLite transaction begins: IMMEDIATE (the write lock
# at BEGIN) for every ``engine.begin()``, the store's write transactions; DEFERRED
# for reads, so readers never queue behind writers.
SQLITE_BEGIN = "sqlite_begin"


def _sqlite_engine(url: str, busy_timeout_ms: int, pool_size: int) -> Engine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    database_file: Path | None = None
    if parsed.database and parsed.database != ":memory:":
        database_file = Path(parsed.database)
        private_dir(database_file.parent)
        # Keep as many connections as PostgreSQL's pool would: past the pool, every
        # checkout opened a connection (PRAGMAs, schema parse) and closed it again,
        # which the web threads did on every request under load.
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    translate_outages(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below: pysqlite's
        # own implicit BEGIN cannot be told to take the write lock up front.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()
        if database_file is not None:
            # Owner-only, also for a database created before this rule (the WAL and
            # shared-memory files take the database file's mode when SQLite makes them).
            # A file this user does not own (or not there yet) is left as it is.
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    private_file(database_file.with_name(database_file.name + suffix))

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite begin mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    # ``engine.begin()`` is how the store opens a write transaction, and most of them
    # read before they write (find the open purpose window, then end it). Begun
    # DEFERRED, such a transaction holds a read snapshot; if another connection commits
    # a write before it writes, SQLite refuses the upgrade at once with "database is
    # locked" (SQLITE_BUSY_SNAPSHOT: waiting cannot help, so the busy timeout is not
    # applied), and a web request fails with four users searching. IMMEDIATE takes the
    # write lock at BEGIN, where the busy timeout applies: writers queue, none fails.
    # Reads (``engine.connect()``) stay DEFERRED and never wait for a writer (WAL).
    @contextlib.contextmanager
    def begin_writing() -> Iterator[Connection]:
        with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn, \
                conn.begin():
            yield conn

    setattr(engine, "begin", begin_writing)  # noqa: B010 (an instance's own method)
    return engine


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 30_000,
                connect_args: dict[str, Any] | None = None) -> Engine:
    """Create the engine for ``url`` with Sightline's connection settings."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_ms, pool_size)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args or {},
    )
    translate_outages(engine)
    return engine


def is_sqlite(engine: Engine) -> bool:
    """Tell whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database file behind ``engine`` (``None`` for PostgreSQL or in memory)."""
    if not is_sqlite(engine):
        return None
    name = engine.url.database
    return Path(name).resolve() if name and name != ":memory:" else None


def ping(engine: Engine) -> bool:
    """Tell whether the database answers a trivial query (health checks)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:  # any failure at all means "not reachable" to a health check
        return False
    return True
