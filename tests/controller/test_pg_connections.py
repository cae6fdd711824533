"""PostgreSQL connections: the pool pings one only when it has idled
(store.engine.ping_when_idle) and still replaces every connection a restarted server
closed; a reader's connection runs without a transaction (store.engine.reading) and
goes back to the pool with one again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pg_cluster import Cluster, can_run
from sqlalchemy import Connection, Engine, text

from controller.store.engine import PING_AFTER_IDLE, make_engine, reading

pytestmark = pytest.mark.skipif(can_run() is not None, reason=str(can_run()))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    server = Cluster()
    server.start()
    try:
        yield server
    finally:
        server.remove()


def counted_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one at each ping the engine's pool makes."""
    pings: list[int] = []
    real = engine.dialect.do_ping

    def ping(dbapi_conn: Any) -> bool:
        pings.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def one(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_a_connection_back_a_moment_ago_is_not_pinged(cluster: Cluster,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(cluster.url, pool_size=2)
    try:
        pings = counted_pings(engine, monkeypatch)
        for _ in range(20):
            assert one(engine) == 1
        assert pings == []
        time.sleep(PING_AFTER_IDLE + 0.2)
        assert one(engine) == 1
        assert len(pings) == 1, "one that idled past the limit is pinged"
    finally:
        engine.dispose()


def test_connections_a_restarted_server_closed_are_replaced_unseen(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(cluster.url, pool_size=2)
    try:
        with engine.connect() as a, engine.connect() as b:  # two connections in the pool
            a.execute(text("SELECT 1"))
            b.execute(text("SELECT 1"))
        pings = counted_pings(engine, monkeypatch)
        cluster.stop()
        cluster.start()
        time.sleep(PING_AFTER_IDLE + 0.2)  # the restart alone usually takes that long
        with engine.connect() as a, engine.connect() as b:
            assert a.execute(text("SELECT 1")).scalar_one() == 1
            assert b.execute(text("SELECT 1")).scalar_one() == 1
        assert len(pings) == 2
    finally:
        engine.dispose()


def transaction_ids(conn: Connection) -> set[int]:
    """The transaction ids two statements in a row ran in."""
    return {int(conn.execute(text("SELECT txid_current()")).scalar_one()) for _ in range(2)}


def test_a_reader_runs_each_statement_alone_and_leaves_no_trace(cluster: Cluster) -> None:
    engine = make_engine(cluster.url, pool_size=1)
    try:
        with reading(engine) as conn:
            assert len(transaction_ids(conn)) == 2, "no BEGIN: each statement on its own"
        # The same pooled connection, handed out again, is transactional as before.
        with engine.connect() as conn:
            assert len(transaction_ids(conn)) == 1
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS kept (n int)"))
        with pytest.raises(ZeroDivisionError), engine.begin() as conn:
            conn.execute(text("INSERT INTO kept VALUES (1)"))
            raise ZeroDivisionError
        with reading(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM kept")).scalar_one() == 0
    finally:
        engine.dispose()
