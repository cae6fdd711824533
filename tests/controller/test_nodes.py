"""Which node runs each camera: the lease keeper against the real PostgreSQL, and SQLite's
refusal of a second node."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from controller.app import Controller
from controller.capture.ownership import LeaseKeeper, SingleNodeLock
from controller.errors import ConfigError, ControllerError
from controller.settings import NodeSettings, Settings
from controller.store import audit as audit_repo
from controller.store import leases
from controller.store import sites as site_repo

FAST = {"lease_seconds": 3.0, "renew_seconds": 0.5}


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("leases arbitrate between nodes, which need PostgreSQL")
    return engine


class Node:
    """A lease keeper and the cameras it was told to stop (what the pipelines would do)."""

    def __init__(self, engine: Engine, name: str, sites: list[str],
                 failover: list[str] = ()) -> None:  # type: ignore[assignment]
        self.stopped: list[int] = []
        self.keeper = LeaseKeeper(
            engine, NodeSettings(name=name, sites=tuple(sites), failover_sites=tuple(failover),
                                 **FAST),
            stop_camera=self._stop, started=lambda: None)

    async def _stop(self, camera_id: int) -> None:
        self.stopped.append(camera_id)

    def owned(self) -> set[int]:
        return {o.camera_id for o in self.keeper.report() if self.keeper.owns(o.camera_id)}


def two_sites(engine: Engine) -> tuple[int, int]:
    north = site_repo.create_site(engine, code="N1", name="north")
    south = site_repo.create_site(engine, code="S1", name="south")
    return (site_repo.create_camera(engine, north, {"name": "n", "host": "127.0.0.1",
                                                    "stream_uri": "rtsp://127.0.0.1:9/n"}),
            site_repo.create_camera(engine, south, {"name": "s", "host": "127.0.0.1",
                                                    "stream_uri": "rtsp://127.0.0.1:9/s"}))


async def until(check: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def actions(engine: Engine) -> list[tuple[str, str]]:
    return [(r["actor"], r["action"]) for r in audit_repo.search(engine, limit=1000)
            if r["action"].startswith("lease.")]


async def test_each_node_takes_its_own_sites_and_leaves_held_ones(pg: Engine) -> None:
    north, south = two_sites(pg)
    a, b = Node(pg, "a", ["N1"], ["S1"]), Node(pg, "b", ["S1"], ["N1"])
    await b.keeper.tick()  # b first: it takes its own camera and stands in for a's
    assert b.owned() == {north, south}
    await a.keeper.tick()  # a asks its camera back; b hands it over at its next pass
    assert a.owned() == set()
    await b.keeper.tick()
    assert b.owned() == {south} and b.stopped == [north]
    await a.keeper.tick()
    assert a.owned() == {north}
    assert {lease.camera_id: lease.holder for lease in leases.leases(pg)} == {
        north: "a", south: "b"}
    assert ("node:b", "lease.handed_back") in actions(pg)


async def test_a_node_stops_reading_before_its_lease_can_expire(pg: Engine) -> None:
    north, south = two_sites(pg)
    a, b = Node(pg, "a", ["N1"], ["S1"]), Node(pg, "b", ["S1"])
    await b.keeper.tick()
    assert b.owned() == {south}
    # b stops renewing (a hung process, a database it cannot reach): it stops reading on
    # its own clock while the lease is still live in the database, so nobody has it yet.
    await until(lambda: not b.keeper.owns(south))
    (row,) = [lease for lease in leases.leases(pg) if lease.camera_id == south]
    assert row.holder == "b" and row.live
    await a.keeper.tick()
    assert south not in a.owned()  # not expired: a does not take it yet
    async def taken() -> bool:
        await a.keeper.tick()
        return south in a.owned()
    deadline = time.monotonic() + 20
    while not await taken():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    await b.keeper.tick()  # the renewal finds the lease taken: b gives the camera up
    assert b.stopped == [south] and b.owned() == set()
    assert ("node:a", "lease.taken_over") in actions(pg)
    assert ("node:b", "lease.lost") in actions(pg)
    assert north in a.owned()


async def test_a_stopping_node_releases_its_cameras_at_once(pg: Engine) -> None:
    _north, south = two_sites(pg)
    b, a = Node(pg, "b", ["S1"]), Node(pg, "a", ["N1"], ["S1"])
    await b.keeper.tick()
    await b.keeper.release_all()
    assert b.stopped == [south] and leases.leases(pg) == []
    await a.keeper.tick()  # no wait for an expiry
    assert south in a.owned()


def test_sqlite_lock_refuses_a_second_node_and_dies_with_the_first(tmp_path: Path) -> None:
    database = tmp_path / "sightline.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from controller.capture.ownership import SingleNodeLock; "
         f"SingleNodeLock(Path({str(database)!r}), 'north').acquire(); "
         "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=r"SQLite is single-node, and node north \(pid "
                                              rf"{holder.pid}\) already runs cameras on "):
            SingleNodeLock(database, "south").acquire()
    finally:
        holder.kill()  # SIGKILL: no chance to clean up
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
    lock = SingleNodeLock(database, "south")
    lock.acquire()  # the kernel let go of the dead node's lock
    lock.release()


async def test_a_second_controller_on_one_sqlite_file_is_refused(settings: Settings) -> None:
    if not settings.database_url().startswith("sqlite"):
        pytest.skip("the single-node refusal is SQLite's")
    quiet = settings.model_copy(update={"node": NodeSettings(name="first")})
    first = Controller(quiet)
    await first.start()
    try:
        second = Controller(settings.model_copy(update={"node": NodeSettings(name="second")}))
        with pytest.raises(ControllerError, match=r"start step 'database' failed: database\.url: "
                                                  r"SQLite is single-node, and node first"):
            await second.start()
        # A web-only process beside the node is no second node.
        web_only = Controller(settings.model_copy(update={"node": NodeSettings(
            name="web", run_cameras=False)}))
        await web_only.start()
        await web_only.stop()
    finally:
        await first.stop()
    again = Controller(settings)
    await again.start()
    await again.stop()


async def test_the_cameras_page_data_names_the_lease_holder(pg: Engine) -> None:
    from controller.accounts import Caller
    from controller.operations import fleet

    north, south = two_sites(pg)
    b = Node(pg, "b", ["S1"])
    await b.keeper.tick()
    shown = {c["id"]: c for site in fleet.sites(pg, Caller(
        username="sys", role="administrator", user_id=None, gate_ok=True)) for c in site["cameras"]}
    assert shown[south]["node"] == "b" and shown[south]["lease_expires_at"] is not None
    assert shown[north]["node"] is None


def test_of_several_dispatchers_one_claims_each_delivery(pg: Engine) -> None:
    import threading
    import uuid
    from datetime import UTC, datetime, timedelta

    from controller.store import hits as hit_repo

    north, _south = two_sites(pg)
    now = datetime.now(UTC)
    hit_repo.write_reads(pg, [{
        "read": {"uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
                 "confidence": 0.95, "char_confidences": [0.95] * 7, "camera_id": north,
                 "site_id": site_repo.get_camera(pg, north)["site_id"], "seen_at": now,
                 "direction": "NB", "created_at": now},
        "hits": [{"uuid": str(uuid.uuid4()), "entry": {
            "list": "CA-SVS", "plate": "7ABC123", "match": "exact",
            "category": "stolen_vehicle", "reason": "stolen"}}]}], sinks=["webhook:cad"], now=now)
    (due,) = hit_repo.due_deliveries(pg, now)
    barrier, won, lock = threading.Barrier(5), [], threading.Lock()

    def claim(node: str) -> None:
        barrier.wait()
        if hit_repo.claim_delivery(pg, due["delivery_id"], node, now, now + timedelta(seconds=60)):
            with lock:
                won.append(node)

    threads = [threading.Thread(target=claim, args=(f"n{i}",), name=f"claimer-{i}")
               for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1
    assert hit_repo.due_deliveries(pg, now + timedelta(seconds=30)) == []  # claimed
    # The claimer died mid-send and starts again: what it had claimed is due at once.
    assert hit_repo.release_claims(pg, won[0], now) == 1
    assert [d["delivery_id"] for d in hit_repo.due_deliveries(pg, now)] == [due["delivery_id"]]
