"""The camera lease store against the real PostgreSQL (SQLite has one node and no leases)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from controller.store import leases
from controller.store import sites as site_repo


@pytest.fixture
def pg(engine: Engine) -> Engine:
    """The engine fixture on PostgreSQL only: leases arbitrate between nodes, and SQLite
    runs one node, which needs none (its refusal of a second node is tested elsewhere)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("camera leases are for several nodes, which need PostgreSQL")
    return engine


def cameras(engine: Engine, count: int) -> list[int]:
    site = site_repo.create_site(engine, code="S1", name="site one")
    return [site_repo.create_camera(engine, site, {"name": f"c{i}", "host": "127.0.0.1"})
            for i in range(count)]


def until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_acquire_a_free_lease_and_refuse_a_held_one(pg: Engine) -> None:
    (camera,) = cameras(pg, 1)
    first = leases.acquire(pg, camera, "north", 30, own=True)
    assert first is not None and first.epoch == 1 and first.previous is None
    assert leases.acquire(pg, camera, "south", 30, own=True) is None
    assert leases.acquire(pg, camera, "north", 30, own=True) is None  # not twice, even by name
    (row,) = leases.leases(pg)
    assert (row.camera_id, row.holder, row.epoch, row.live) == (camera, "north", 1, True)


def test_renew_extends_only_the_epoch_held(pg: Engine) -> None:
    camera, other = cameras(pg, 2)
    got = leases.acquire(pg, camera, "north", 30, own=True)
    assert got is not None
    (renewed,) = leases.renew(pg, "north", {camera: got.epoch}, 60)
    assert renewed.camera_id == camera and renewed.expires_at > got.expires_at
    assert leases.renew(pg, "north", {camera: got.epoch + 1}, 60) == []  # a stale token
    assert leases.renew(pg, "south", {camera: got.epoch}, 60) == []  # another node
    assert leases.renew(pg, "north", {other: 1}, 60) == []  # never held


def test_an_expired_lease_is_taken_over_and_its_holder_cannot_renew_it(pg: Engine) -> None:
    (camera,) = cameras(pg, 1)
    held = leases.acquire(pg, camera, "north", 0.5, own=True)
    assert held is not None
    assert leases.acquire(pg, camera, "south", 30, own=False) is None  # not yet expired
    taken: list[leases.Acquired] = []

    def steal() -> bool:
        got = leases.acquire(pg, camera, "south", 30, own=False)
        taken.extend([got] if got else [])
        return got is not None

    until(steal)
    assert taken[0].epoch == held.epoch + 1 and taken[0].previous == "north"
    assert taken[0].previous_expired_at == held.expires_at
    assert leases.renew(pg, "north", {camera: held.epoch}, 30) == []  # lost
    assert [lease.holder for lease in leases.leases(pg)] == ["south"]


def test_a_lapsed_lease_nobody_took_is_renewed_only_when_asked(pg: Engine) -> None:
    # A node with no stand-in (it claims every site) renews a lease that ran out while
    # the database could not be reached, as long as nobody took it; a fenced node does not.
    (camera,) = cameras(pg, 1)
    held = leases.acquire(pg, camera, "north", 0.3, own=True)
    assert held is not None
    until(lambda: not leases.leases(pg)[0].live)  # ran out, by the database's clock
    assert leases.renew(pg, "north", {camera: held.epoch}, 30) == []
    (renewed,) = leases.renew(pg, "north", {camera: held.epoch}, 30, lapsed=True)
    assert renewed.epoch == held.epoch and leases.leases(pg)[0].live
    # Taken meanwhile (a new epoch): lapsed or not, it is lost.
    assert leases.renew(pg, "north", {camera: held.epoch + 1}, 30, lapsed=True) == []


def test_a_lease_renewed_in_time_is_never_taken(pg: Engine) -> None:
    (camera,) = cameras(pg, 1)
    held = leases.acquire(pg, camera, "north", 1.0, own=True)
    assert held is not None
    for _ in range(12):  # three lease lengths, renewed every quarter of one
        assert leases.renew(pg, "north", {camera: held.epoch}, 1.0)
        assert leases.acquire(pg, camera, "south", 30, own=False) is None
        time.sleep(0.25)


def test_hand_back_to_the_cameras_own_node(pg: Engine) -> None:
    (camera,) = cameras(pg, 1)
    standin = leases.acquire(pg, camera, "south", 30, own=False)
    assert standin is not None
    assert leases.ask_back(pg, camera, "north", 30) == "south"
    (renewed,) = leases.renew(pg, "south", {camera: standin.epoch}, 30)
    assert renewed.wanted_by == "north"
    assert leases.acquire(pg, camera, "north", 30, own=True) is None  # held until released
    assert leases.release(pg, camera, "south", standin.epoch)
    assert leases.leases(pg) == []
    # A third stand-in leaves a lease its own node asked back alone; the owner takes it.
    assert leases.acquire(pg, camera, "east", 30, own=False) is None
    back = leases.acquire(pg, camera, "north", 30, own=True)
    assert back is not None and back.epoch == standin.epoch + 1
    assert back.previous is None  # it was released, not taken over
    (row,) = leases.leases(pg, released=True)
    assert (row.holder, row.wanted_by) == ("north", None)
    assert leases.ask_back(pg, camera, "north", 30) is None  # it holds it itself
    assert not leases.release(pg, camera, "south", standin.epoch)  # gone already


def contend(engine: Engine, camera: int, contenders: int) -> list[str]:
    """Let ``contenders`` threads try to acquire the camera at the same moment; who won."""
    barrier = threading.Barrier(contenders)
    won: list[str] = []
    lock = threading.Lock()

    def attempt(name: str) -> None:
        barrier.wait()
        got = leases.acquire(engine, camera, name, 0.3, own=False)
        if got is not None:
            with lock:
                won.append(name)

    threads = [threading.Thread(target=attempt, args=(f"node{i}",), name=f"contender-{i}")
               for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return won


def test_concurrent_acquirers_exactly_one_wins(pg: Engine) -> None:
    (camera,) = cameras(pg, 1)
    for round_ in range(4):
        if round_:  # the row exists and has expired: the UPDATE path of the upsert
            until(lambda: not leases.leases(pg)[0].live)
        won = contend(pg, camera, 6)  # round 0: no row yet, the INSERT path
        assert len(won) == 1, won
        (row,) = leases.leases(pg)
        assert row.holder == won[0] and row.epoch == round_ + 1
