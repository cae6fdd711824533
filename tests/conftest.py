"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and leak checks."""

from __future__ import annotations

import asyncio
import inspect
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine, text

from controller.settings import Settings
from controller.settings.loader import settings_from_mapping
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

# The web application's fixtures (app, client, auth), shared by tests/web and tests/compliance.
pytest_plugins = ["web_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_ENV = "SIGHTLINE_TEST_DATABASE_URL"

# Tests that run a camera streaming in real time (a clip of passages at 10 frames/s)
# against a whole controller.  `make test` runs them after the rest, one at a time in one
# process with nothing else beside them (marker `real_time`), so that the camera's clock,
# not the load of other tests, decides what is seen: beside a second worker filling the
# other core, a controller with four cameras fell behind and read no plate from one of
# them (CI of stop 22).  Under a plain `pytest -n N` they still share one worker
# (xdist's loadgroup), never two at once.
REAL_TIME = (
    "tests/integration/test_end_to_end.py",
    "tests/integration/test_camera_changes.py",
    "tests/integration/test_crash_recovery.py",
    "tests/integration/test_database_outage.py",
    "tests/cameras/test_stream_ipycam.py",
    "tests/controller/test_controller_cli.py::test_demo_",
    "tests/integration/test_snapshot_stream.py",
    "tests/browser/test_browser_first_run.py",
    "tests/integration/test_two_nodes.py",
    "tests/integration/test_soak.py",
    "tests/integration/test_fault_campaign.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(REAL_TIME):
            item.add_marker(pytest.mark.real_time)
            item.add_marker(pytest.mark.xdist_group("real-time"))


# Threads that belong to the interpreter or libraries for the whole session.
_LONG_LIVED = ("MainThread", "pydevd", "asyncio_", "ThreadPoolExecutor")


def _extra_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(_LONG_LIVED)]


@pytest.fixture(autouse=True)
def _no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves threads running (and, for async tests, tasks pending)."""
    before = set(threading.enumerate())
    if inspect.iscoroutinefunction(request.function):
        request.getfixturevalue("_no_leaked_tasks")
    yield
    deadline = time.monotonic() + 5.0
    while _extra_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = _extra_threads(before)
    assert not leaked, f"test leaked threads: {[t.name for t in leaked]}"


@pytest_asyncio.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fail an async test that leaves asyncio tasks pending on its loop."""
    yield
    for _ in range(5):
        await asyncio.sleep(0.01)  # let tasks that are finishing finish
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in pending:
        task.cancel()
    assert not pending, f"test leaked asyncio tasks: {pending}"


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def _pg_trgm_in_public() -> None:
    """pg_trgm (migration 0003) is one per database. Migrated alone, each test's schema
    would create it in itself (its search path is that schema), and dropping that schema
    after the test would drop it, with the indexes of the tests running beside it (xdist
    workers). So it lives in ``public`` for the whole run, created or moved there once,
    under an advisory lock that the workers take in turn."""
    base = os.environ.get(PG_ENV)
    if not base:
        return
    admin = make_engine(base, pool_size=1)
    try:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(4620003)"))
            where = conn.execute(text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar()
            if where is None:
                conn.execute(text("CREATE EXTENSION pg_trgm SCHEMA public"))
            elif where != "public":
                conn.execute(text("ALTER EXTENSION pg_trgm SET SCHEMA public"))
    finally:
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite always; PostgreSQL in its own schema if configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sightline.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: {PG_ENV} is not set")
    schema = f"sl_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the current schema once per worker: each test's
    copy of it costs milliseconds where running every migration costs half a second."""
    path = tmp_path_factory.mktemp("schema") / "sightline.db"
    eng = make_engine(f"sqlite:///{path}", pool_size=1)
    try:
        upgrade(eng)
    finally:
        eng.dispose()
    return path


@pytest.fixture
def engine(db_url: str, sqlite_at_head: Path) -> Iterator[Engine]:
    """An engine on a fresh database migrated to the current schema."""
    target = Path(db_url.removeprefix("sqlite:///"))
    if db_url.startswith("sqlite:///") and not target.exists():
        # SQLite's own backup copies the migrated database whole and consistent.
        with sqlite3.connect(sqlite_at_head) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        eng = make_engine(db_url, pool_size=4)
    else:
        eng = make_engine(db_url, pool_size=4)
        upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings on a temporary data directory and the parametrised database."""
    return settings_from_mapping(
        {"data_dir": str(tmp_path / "data"), "database": {"url": db_url},
         "web": {"host": "127.0.0.1", "port": 0},
         # The state's stolen-vehicle extract: an official feed, in force without approval.
         "hotlists": {"official_feeds": ["CA-SVS"]},
         # Tests of what a camera does, not of its start: no warm-up (its own tests set it).
         "inference": {"warm_up": False}},
        "(test settings)", env={},
    )


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment for running the ``sightline`` command against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGHTLINE_")}
    env.update(SIGHTLINE_DATA_DIR=str(tmp_path / "data"), SIGHTLINE_DATABASE_URL=db_url,
               SIGHTLINE_CONFIG=str(ROOT / "config" / "sightline.yaml"),
               # `sightline login` keeps its token here, never in the real home directory.
               SIGHTLINE_TOKEN_FILE=str(tmp_path / "cli-token"))
    return env
