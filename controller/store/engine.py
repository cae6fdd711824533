"""Engines for the system of record: SQLite (WAL) embedded, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError

from controller.permissions import private_dir, private_file
from controller.store.outage import translate_outages

# Execution option naming how a SQLite transaction begins: IMMEDIATE (the write lock
# at BEGIN) for every ``engine.begin()``, the store's write transactions; DEFERRED
# for reads, so readers never queue behind writers.
SQLITE_BEGIN = "sqlite_begin"
# A pooled PostgreSQL connection idle this long is pinged before use (ping_when_idle).
PING_AFTER_IDLE = 1.0
_IDLE_SINCE = "sightline_idle_since"


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
    # The most recently returned connection first (LIFO): under light load the same few
    # stay in use and skip the ping below, the others idle and are pinged when next used.
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_use_lifo=True,
        connect_args=connect_args or {},
    )
    translate_outages(engine)
    ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE) -> None:
    """Check a pooled connection with a trivial query before it is handed out, if it has
    been back in the pool for ``idle_seconds`` or more; a dead one is replaced.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and a web request checks a
    connection out for each of its ten or so queries: under 20 officers searching,
    a fifth of the web threads' time went to those pings (py-spy, bench_search_web on
    PostgreSQL).  A server restarted (stopped, then started: more than a second) has
    closed connections that have all idled that long, so each is pinged and replaced
    before use, as with ``pool_pre_ping``.  A connection used within the second is
    handed out as it is: if the server dropped it meanwhile, its next statement fails
    as a lost database (``StoreUnavailable``), and SQLAlchemy then replaces every
    connection of the pool.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just opened, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool replaces it (and retries) on this error
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc


def reading(engine: Engine) -> Connection:
    """A connection for statements that only read (``with reading(engine) as conn``).

    On PostgreSQL it runs in autocommit: each statement is its own transaction, with
    no BEGIN before it and no ROLLBACK after, two round trips fewer per checkout.
    Under READ COMMITTED, PostgreSQL's default and Sightline's, each statement sees
    its own snapshot inside a transaction as well, so a reader sees the same rows.
    Not for ``SET LOCAL`` (it needs a transaction), nor for anything that writes
    or locks. On SQLite, a plain ``engine.connect()`` (reads begin DEFERRED).
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


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
