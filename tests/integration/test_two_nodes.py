"""Two controller nodes and a web-only process on one PostgreSQL (issue 18, points 1 and 2).

Real processes (``sightline run``), two real cameras (the demo camera on ipycam's
RTSP server), a real dispatch receiver. Every camera is run by exactly one node; a
read taken on either node is found through the web-only process's API; each hit is
delivered once. Then one node is SIGKILLed: the survivor, allowed to stand in for its
site, takes its camera within 30 s; when the killed node comes back the camera is
handed back, and at no moment do two nodes run it (checked on the lease rows, on
each node's own /healthz while the hand-back happens, and afterwards on the
intervals each node logged between starting and stopping each pipeline).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration_peers import RECEIVER_SECRET, demo_camera
from sqlalchemy import Engine, select

from controller import audit
from controller.accounts import Caller, clients, users
from controller.alerts import hotlists
from controller.compliance import program
from controller.demo.receiver import HitReceiver
from controller.demo.world import free_port
from controller.settings import HotlistSettings, SecuritySettings
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import leases
from controller.store import sites as site_repo
from controller.store import users as user_repo
from controller.store.schema import reads
from tests.integration.fault_rig import until

NORTH = ["7ABC123", "5DEF678", "8GHJ234"]
SOUTH = ["4KLM567", "6NPR890", "3TUV456"]
LISTED = ["5DEF678", "6NPR890"]
AUDIT_KEY = "two-nodes-audit-key-0123456789abcdef"
PURPOSE = {"Sightline-Purpose": "Stolen vehicle investigation",
           "Sightline-Case-Number": "26-004512", "Sightline-Attest": "yes"}
# Short leases, so the test is quick; a renewal period a quarter of the lease, so a
# loaded machine's slow renewal does not lose a camera.
LEASE = {"lease_seconds": 6.0, "renew_seconds": 1.5}
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*camera \S+ \(id (\d+)"
                      r"(?:, [^)]*)?\): pipeline (started|stopped)")


class Process:
    """One ``sightline run`` process with its own settings, data directory and web port."""

    def __init__(self, name: str, root: Path, env: dict[str, str], node: dict[str, Any],
                 receiver: HitReceiver) -> None:
        self.name = name
        self.port = free_port()
        self.data = root / name
        self.config = root / f"{name}.yaml"
        self.config.write_text(json.dumps({
            "web": {"host": "127.0.0.1", "port": self.port},
            "node": {"name": name, **node},
            "inference": {"warm_up": False},
            "dispatch": {"webhooks": [{"name": "cad", "url": receiver.url,
                                       "secret_env": "SIGHTLINE_TWO_NODES_SECRET"}]},
        }))
        self.env = {**env, "SIGHTLINE_DATA_DIR": str(self.data)}
        self.logs: list[tuple[Path, float | None]] = []  # each run's log, and when it was killed
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.data.parent / f"{self.name}-{len(self.logs)}.log"
        self.logs.append((log, None))
        with log.open("wb") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "controller", "--config", str(self.config), "run"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=handle)

    def report(self) -> dict[str, Any] | None:
        """The node's own account of what it runs (its /healthz), or None if it is down."""
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        except httpx.HTTPError:
            return None
        node: dict[str, Any] = answer.json()["node"]
        return node

    def running(self) -> set[int]:
        report = self.report()
        return set(report["cameras"]) if report else set()

    def kill(self) -> None:
        """SIGKILL: no chance to stop a camera or release a lease."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.logs[-1] = (self.logs[-1][0], time.time())

    def terminate(self) -> None:
        """SIGTERM: stop gracefully (cameras stopped, leases released)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        """Wait for the process to end (killing it if it does not within 30 s)."""
        if self.proc is None:
            return
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def spans(self) -> list[tuple[str, int, float, float]]:
        """(run, camera id, start, end) of every pipeline each run of this node logged:
        from before it started to after it stopped (to the kill, or now, if it never did)."""
        out = []
        for run, (log, killed) in enumerate(self.logs):
            started: dict[int, float] = {}
            for line in log.read_text(errors="replace").splitlines():
                match = LOG_LINE.match(line)
                if not match:
                    continue
                at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                camera = int(match[2])
                if match[3] == "started":
                    started[camera] = at
                elif camera in started:
                    out.append((f"{self.name}#{run}", camera, started.pop(camera), at))
            end = killed if killed is not None else time.time()
            out += [(f"{self.name}#{run}", camera, at, end) for camera, at in started.items()]
        return out


def holders(engine: Engine) -> dict[int, str]:
    return {lease.camera_id: str(lease.holder) for lease in leases.leases(engine) if lease.live}


def stored(engine: Engine, camera: int, since: datetime | None = None) -> list[str]:
    query = select(reads.c.plate).where(reads.c.camera_id == camera)
    if since is not None:
        query = query.where(reads.c.seen_at > since)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


class Sampler:
    """Samples, until stopped, the lease rows and both nodes' own reports: no camera may
    ever be reported by both. The new owner is asked first: a hand-back goes from
    ``first`` to ``second`` only after ``second`` stopped it, so a camera ``first``
    reports is no longer in what ``second`` reports next."""

    def __init__(self, engine: Engine, first: Process, second: Process) -> None:
        self.problems: list[str] = []
        self.samples = 0
        self._engine, self._first, self._second = engine, first, second
        self._stop = threading.Event()
        self._epochs: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name="lease-sampler")

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            for lease in leases.leases(self._engine, released=True):
                if lease.epoch < self._epochs.get(lease.camera_id, 0):
                    self.problems.append(f"camera {lease.camera_id}: epoch went back")
                self._epochs[lease.camera_id] = lease.epoch
            both = self._first.running() & self._second.running()
            if both:
                self.problems.append(f"cameras {sorted(both)} reported by both nodes")
            self.samples += 1
            self._stop.wait(0.2)


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("several nodes need PostgreSQL (SQLite refuses a second node)")
    audit.use_key(engine, AUDIT_KEY.encode())
    return engine


@pytest.fixture
def cameras() -> Iterator[tuple[str, str]]:
    with demo_camera(NORTH, lead_in=3) as north, demo_camera(SOUTH, lead_in=3) as south:
        yield north, south


def api_token(engine: Engine) -> str:
    """An analyst API client, owned by a trained administrator who acknowledged the policy."""
    users.add_user(engine, SecuritySettings(), username="ada.admin", role="administrator",
                   password="correct horse battery staple 9", actor="t")
    users.record_training(engine, username="ada.admin", course="ALPR 462",
                          completed_on=date.today(), trainer="Sgt. Trainer", actor="t")
    user = user_repo.get(engine, "ada.admin")
    assert user is not None
    policy = users.publish_policy(engine, version="462-test", title="Policy 462",
                                  adopted_on=date(2026, 1, 2), text="ALPR policy", actor="t")
    users.acknowledge_policy(engine, user=user, policy_id=policy)
    owner = Caller(username="ada.admin", role="administrator", user_id=int(user["id"]),
                   gate_ok=True)
    token, _ = clients.add_client(engine, owner, clients.ClientForm(
        name="two-nodes", role="analyst", expires=(date.today() + timedelta(days=30)).isoformat()))
    return token


def searchable(web: Process, token: str, plate: str) -> bool:
    answer = httpx.get(f"http://127.0.0.1:{web.port}/api/v1/reads",
                       params={"mode": "exact", "plate": plate},
                       headers={"Authorization": f"Bearer {token}", **PURPOSE}, timeout=20)
    assert answer.status_code == 200, answer.text
    return any(item["plate"] == plate for item in answer.json()["items"])


# Three controller processes (model compilation, two decoders) on a 2-core machine: the
# waits below are generous; the run takes about 70-110 s here.
@pytest.mark.timeout(300)
def test_two_nodes_failover_and_hand_back(pg: Engine, cli_env: dict[str, str],
                                          cameras: tuple[str, str], receiver: HitReceiver,
                                          tmp_path: Path) -> None:
    engine = pg
    listed = tmp_path / "svs.csv"
    listed.write_text("plate,category\n" + "".join(f"{p},stolen\n" for p in LISTED))
    hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("svs",)), listed, "svs",
                            actor="t")
    token = api_token(engine)
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution="R-1", actor="t")
    north_site = site_repo.create_site(engine, code="N1", name="north")
    south_site = site_repo.create_site(engine, code="S1", name="south")
    north = site_repo.create_camera(engine, north_site, {"name": "north-cam", "host": "127.0.0.1",
                                                         "stream_uri": cameras[0]})
    south = site_repo.create_camera(engine, south_site, {"name": "south-cam", "host": "127.0.0.1",
                                                         "stream_uri": cameras[1]})
    env = {**cli_env, "SIGHTLINE_AUDIT_KEY": AUDIT_KEY,
           "SIGHTLINE_SECRET_KEY": "two-nodes-instance-secret-0123456789",
           "SIGHTLINE_TWO_NODES_SECRET": RECEIVER_SECRET}
    node_a = Process("node-a", tmp_path, env, {"sites": ["N1"], "failover_sites": ["S1"], **LEASE},
                     receiver)
    node_b = Process("node-b", tmp_path, env, {"sites": ["S1"], "failover_sites": ["N1"], **LEASE},
                     receiver)
    web = Process("web", tmp_path, env, {"run_cameras": False}, receiver)
    everyone = (node_a, node_b, web)
    try:
        for process in everyone:
            process.start()
        # Every camera run by exactly one node: its own.
        until(lambda: holders(engine) == {north: "node-a", south: "node-b"}, 90,
              "each node to hold its own camera")
        until(lambda: node_a.running() == {north} and node_b.running() == {south}, 30,
              "each node to report its own camera running")
        assert web.report() == {"name": "web", "cameras": [], "leases": []}
        # A read taken on either node is found through the web-only process.
        north_plate = until(lambda: next(iter(stored(engine, north)), None), 60, "a north read")
        south_plate = until(lambda: next(iter(stored(engine, south)), None), 60, "a south read")
        assert searchable(web, token, north_plate) and searchable(web, token, south_plate)

        # node-b dies: node-a, which may stand in for S1, takes its camera within 30 s.
        node_b.kill()
        killed_at = datetime.now(UTC)
        until(lambda: holders(engine) == {north: "node-a", south: "node-a"}, 30,
              "node-a to take over the south camera")
        until(lambda: node_a.running() == {north, south}, 10, "node-a to run the south camera")
        until(lambda: stored(engine, south, since=killed_at), 60,
              "reads of the south camera from node-a")

        # node-b comes back: the camera is handed back, never run by both.
        with Sampler(engine, node_b, node_a) as sampler:
            node_b.start()
            until(lambda: holders(engine) == {north: "node-a", south: "node-b"}, 60,
                  "the south camera to be handed back")
            until(lambda: node_a.running() == {north} and node_b.running() == {south}, 30,
                  "each node to report its own camera again")
        assert sampler.samples > 10 and sampler.problems == []

        # Each hit delivered once, by whichever process claimed it.
        until(lambda: hit_repo.delivery_counts(engine).get("pending", 0) == 0
              and hit_repo.list_hits(engine), 60, "every hit delivered")
    finally:
        for process in everyone:
            process.terminate()
        for process in everyone:
            process.wait()
    hits = hit_repo.list_hits(engine, limit=1000)
    assert {h["uuid"] for h in hits} == {k.split(":")[0] for k in receiver.received.hits}
    assert receiver.received.duplicates == 0 and receiver.received.bad_signatures == 0
    assert hit_repo.delivery_counts(engine) == {"delivered": len(hits)}

    # Never two pipelines on one camera, by what each run of each node logged.
    spans = node_a.spans() + node_b.spans()
    for run_1, camera_1, start_1, end_1 in spans:
        for run_2, camera_2, start_2, end_2 in spans:
            if run_1 != run_2 and camera_1 == camera_2:
                assert end_1 <= start_2 or end_2 <= start_1, (run_1, run_2, camera_1)
    assert {camera for _run, camera, _start, _end in spans} == {north, south}

    # Health and the audit log say who ran what.
    actions = {(e["actor"], e["action"], e["data"].get("camera_id"))
               for e in audit_repo.search(engine, limit=10_000)
               if e["action"].startswith("lease.")}
    assert ("node:node-a", "lease.taken_over", south) in actions
    assert ("node:node-a", "lease.handed_back", south) in actions
    assert ("node:node-b", "lease.acquired", south) in actions
    # Three processes and this test wrote one chain, with the key they share.
    assert audit.verify(engine).ok
