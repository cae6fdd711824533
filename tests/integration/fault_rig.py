"""The fault campaign's rig (issue 18, point 5), shared by ``bench/faults.py`` and
``tests/integration/test_fault_campaign.py``.

Everything is real and private to the rig: a throwaway PostgreSQL cluster
(``tests/controller/pg_cluster.py``, never the shared one), a private Mosquitto on a
free port, the dispatch receiver (``controller.demo.receiver``), the demo camera
(ipycam) as its own process, and ``sightline run`` as its own process. A fault is
injected into one of them while plates pass (``FAULTS``, ``run_fault``), and the rig
counts (``Rig.ledger``) the passages the camera showed (it announces each round of
them, ``--announce``) against the reads stored, once or twice, and the reads the
controller had accepted (its spool journal when the fault struck) against those
stored; the hits raised for them, delivered to the webhook and to MQTT, and how many
of those twice.

Nothing here stops the shared PostgreSQL or Mosquitto.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select

from controller import audit
from controller.accounts import users
from controller.alerts import hotlists
from controller.compliance import program
from controller.demo.camera import GAP_SECONDS, PASSAGE_SECONDS
from controller.demo.receiver import HitReceiver, Received
from controller.demo.world import free_port
from controller.errors import StoreUnavailable
from controller.settings import HotlistSettings
from controller.store import health as health_repo
from controller.store import hits as hit_repo
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import read_images, reads
from tests.controller.pg_cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
PLATES = ("7ABC123", "5DEF678", "8GHJ234")
LISTED = ("5DEF678",)
SECRET = "fault-campaign-secret-7d2e41"
SECRET_ENV = "SIGHTLINE_FAULTS_RECEIVER_SECRET"
AUDIT_KEY = "fault-campaign-audit-key-0123456789abcdef"
TOPIC_PREFIX = "sightline/faults"
# A read is of a passage if its time lies within the passage, give or take this much
# (the stream's latency and the camera's pacing under load).
SLACK_SECONDS = 2.0
FPS = 10


def until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``check`` until it returns something true; raise naming ``what`` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.25)


def faketime_library() -> str | None:
    """libfaketime (Debian's faketime package), if installed."""
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    return str(found[0]) if found else None


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Passage:
    """One vehicle the camera showed: its plate, from ``start`` to ``end`` (unix time)."""

    plate: str
    start: float
    end: float


class Camera:
    """The demo camera as its own process, announcing each round of passages; a fault
    may kill, freeze or replace it (the same ports each time)."""

    def __init__(self, plates: tuple[str, ...], *, lead_in: float = 3.0) -> None:
        self.plates = plates
        self.lead_in = lead_in
        self.onvif, self.rtsp = free_port(), free_port()
        self.url = f"rtsp://127.0.0.1:{self.rtsp}/video_main"
        # (when a round began, which run of the process showed it); when each run ended
        self.rounds: list[tuple[float, int]] = []
        self.ended: dict[int, float] = {}
        self.runs = 0
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "controller.demo.camera", "--onvif-port",
                str(self.onvif), "--rtsp-port", str(self.rtsp), "--plates",
                ",".join(self.plates), "--lead-in", str(self.lead_in), "--fps", str(FPS),
                "--announce"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"the demo camera did not start: {line.strip() or 'no output'}")
        self.runs += 1
        self._reader = threading.Thread(target=self._read, args=(self.proc, self.runs),
                                         name="camera-rounds", daemon=True)
        self._reader.start()

    def _read(self, proc: subprocess.Popen[str], run: int) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ROUND "):
                with self._lock:
                    self.rounds.append((float(line.split()[1]), run))

    def passages(self, *, whole: bool = True) -> list[Passage]:
        """Every passage shown so far (by the rounds announced): of a round cut short by
        the end of its process, those shown whole (or, not ``whole``, begun) by then."""
        with self._lock:
            rounds, ended = list(self.rounds), dict(self.ended)
        out = []
        for begun, run in rounds:
            for i, plate in enumerate(self.plates):
                start = begun + GAP_SECONDS + i * (PASSAGE_SECONDS + GAP_SECONDS)
                limit = ended.get(run, float("inf"))
                if (start + PASSAGE_SECONDS if whole else start) <= limit:
                    out.append(Passage(plate, start, start + PASSAGE_SECONDS))
        return out

    def signal(self, number: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(number)

    def kill(self) -> None:
        """SIGKILL: the camera is gone mid-stream."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._ended()

    def _ended(self) -> None:
        with self._lock:
            self.ended[self.runs] = time.time()
        if self._reader is not None:
            self._reader.join(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen camera must hear SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._ended()

    def next_round(self, after: float, seconds: float = 60) -> float:
        """When the first round after ``after`` began (waiting for it)."""
        def found() -> float | None:
            with self._lock:
                return next((t for t, _run in self.rounds if t > after), None)
        begun: float = until(found, seconds, "the camera's next round")
        return begun


class Node:
    """One ``sightline run`` process with its own settings file and data directory."""

    def __init__(self, name: str, root: Path, settings: dict[str, Any],
                 env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.data = root / name
        self.config = root / f"{name}.json"
        self.config.write_text(json.dumps({
            **settings, "data_dir": str(self.data),
            "web": {"host": "127.0.0.1", "port": self.port},
            "node": {"name": name, **settings.get("node", {})}}))
        self.env = env
        self.runs = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def journal(self) -> Path:
        return self.data / "spool" / "journal.jsonl"

    def start(self) -> None:
        log = self.data.parent / f"{self.name}-{self.runs}.log"
        self.runs += 1
        with log.open("wb") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "controller", "--config", str(self.config), "run"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=handle, cwd=ROOT)

    def health(self) -> dict[str, Any] | None:
        """The node's /healthz body, or None while it does not answer."""
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        except httpx.HTTPError:
            return None
        body: dict[str, Any] = answer.json()
        return body

    def running(self) -> set[int]:
        report = self.health()
        return set(report["node"]["cameras"]) if report else set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to flush, stop a camera or release a lease."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after 30 s); the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Broker:
    """A private Mosquitto on a free loopback port, with persistence (so that a QoS 1
    subscriber's session and queued messages survive a restart, as in production)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "mosquitto"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {self.dir}/\n"
            "autosave_interval 1\nuser root\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.dir / "log").open("ab") as log:
            self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                         stdout=subprocess.DEVNULL, stderr=log)
        until(lambda: port_open(self.port), 30, "mosquitto to listen")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None


class Subscriber:
    """Counts the hits MQTT hands out, by idempotency key (a persistent QoS 1 session)."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.keys: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fault-campaign",
                                   clean_session=False)
        self._client.on_connect = self._connected
        self._client.on_message = self._message
        self._client.reconnect_delay_set(1, 2)
        self._client.connect_async("127.0.0.1", port, keepalive=10)
        self._client.loop_start()

    def _connected(self, client: Any, _userdata: Any, _flags: Any, _code: Any,
                   _props: Any) -> None:
        client.subscribe(f"{TOPIC_PREFIX}/#", qos=1)

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        key = str(json.loads(message.payload)["idempotency_key"])
        with self._lock:
            self.keys[key] += 1

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.keys)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class Receiver(HitReceiver):
    """The dispatch receiver, its record of what it received (``received``: the keys it
    acted on, dropping a key it has seen) kept across its incarnations, as a real
    dispatch system keeps it; ``resent`` counts, per key, the deliveries it dropped."""

    def __init__(self, port: int, received: Received, resent: Counter[str],
                 lock: threading.Lock) -> None:
        super().__init__(SECRET.encode(), port=port)
        self.received = received
        self._resent, self._resent_lock = resent, lock

    def handle(self, body: bytes, timestamp: str, signature: str, key: str) -> int:
        before = self.received.duplicates
        status = super().handle(body, timestamp, signature, key)
        if self.received.duplicates > before:
            with self._resent_lock:
                self._resent[key] += 1
        return status


class Dispatch:
    """The webhook receiver on a fixed port, which a fault can take down and bring back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hits"
        self.received = Received()
        self.resent: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: Receiver | None = None

    def up(self) -> None:
        self._server = Receiver(self.port, self.received, self.resent, self._lock)
        self._server.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def counts(self) -> Counter[str]:
        """Per idempotency key: 1 for each hit acted on, plus each time it came again."""
        with self._lock:
            return Counter({key: 1 for key in list(self.received.hits)}) + self.resent


@dataclass
class Ledger:
    """What one fault window showed and what came of it.

    Two accounts. By passage (what the camera showed): ``offered``, those read
    (``read``; a passage recognition missed is ``missed``, not a loss: the fault did
    not take it), and those stored more than once (``duplicated``). By read (what
    the controller accepted): every read it had accepted (stored, or journaled when
    the fault struck) must end up stored once (``lost``), every stored read of a
    listed plate must have raised its hit, and every hit must reach every sink once.
    """

    offered: int = 0
    read: int = 0
    duplicated: int = 0
    unmatched: int = 0  # reads of the window matching no passage (a misread plate)
    accepted: int = 0
    lost: int = 0
    hits_expected: int = 0  # stored reads of a listed plate
    hits_raised: int = 0
    hits_twice: int = 0  # reads with more than one hit
    delivered: dict[str, int] = field(default_factory=dict)  # per sink: hits delivered
    # per sink: hits that came again under the same idempotency key (a retry after the
    # sender died before recording the delivery), dropped by the receiver for that key
    sent_twice: dict[str, int] = field(default_factory=dict)
    # per sink: vehicles (passages) of which two different hits reached dispatch
    delivered_twice: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


class Rig:
    """The peers and one controller node; ``ledger`` counts a window of passages."""

    def __init__(self, root: Path, *, mqtt: bool = True, plates: tuple[str, ...] = PLATES,
                 listed: tuple[str, ...] = LISTED, node_settings: dict[str, Any] | None = None,
                 node_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.plates, self.listed = plates, listed
        self.mqtt = mqtt
        self.cluster = Cluster()
        self.engine: Engine | None = None
        self.camera = Camera(plates)
        self.dispatch = Dispatch()
        self.broker = Broker(root) if mqtt else None
        self.subscriber: Subscriber | None = None
        self.camera_id = 0
        self.images: Path | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGHTLINE_")}
        env.update({"SIGHTLINE_AUDIT_KEY": AUDIT_KEY, SECRET_ENV: SECRET,
                    "SIGHTLINE_SECRET_KEY": "fault-campaign-instance-secret-0123456789",
                    "SIGHTLINE_CONFIG": str(ROOT / "config" / "sightline.yaml"),
                    "PYTHONPATH": str(ROOT)}, **(node_env or {}))
        # The node's wall clock can be stepped (libfaketime, re-reading its offset file
        # every second); its monotonic clock is left alone, as an NTP step would.
        self.clock = root / "clock-offset"
        self.clock.write_text("+0\n")
        library = faketime_library()
        if library is not None:
            env.update({"LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": str(self.clock),
                        "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        self.clock_steps = library is not None
        self.env = env
        settings: dict[str, Any] = {
            "database": {"url": self.cluster.url, "pool_size": 4},
            "inference": {"min_track_frames": 2, "warm_up": False},
            "node": {"lease_seconds": 6.0, "renew_seconds": 1.5},
            "dispatch": {"webhooks": [{"name": "cad", "url": self.dispatch.url,
                                       "secret_env": SECRET_ENV}]},
        }
        if self.broker is not None:
            settings["dispatch"]["mqtt"] = {"host": "127.0.0.1", "port": self.broker.port,
                                            "topic_prefix": TOPIC_PREFIX}
        for key, value in (node_settings or {}).items():
            settings[key] = {**settings.get(key, {}), **value}
        self.settings = settings
        self.node = Node("node-a", root, settings, env)
        self.stand_in: Node | None = None  # node-b, once the two-node fault set it up

    # -- set-up ---------------------------------------------------------------------------

    def start(self) -> None:
        self.cluster.start()
        self.engine = engine = make_engine(self.cluster.url, pool_size=2)
        upgrade(engine)
        audit.use_key(engine, AUDIT_KEY.encode())
        users.publish_policy(engine, version="462-test", title="Policy 462",
                             adopted_on=date(2026, 1, 2), text="ALPR policy", actor="faults")
        program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                         resolution="R-1", actor="faults")
        listed = self.root / "svs.csv"
        listed.write_text("plate,category\n" + "".join(f"{p},stolen\n" for p in self.listed))
        hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("svs",)), listed, "svs",
                                actor="faults")
        self.dispatch.up()
        if self.broker is not None:
            self.broker.start()
            self.subscriber = Subscriber(self.broker.port)
        self.camera.start()
        site = sites.create_site(engine, code="S1", name="faults")
        self.camera_id = sites.create_camera(engine, site, {
            "name": "faults-cam", "host": "127.0.0.1", "stream_uri": self.camera.url})
        self.images = self._mount_images()
        self.node.start()

    def _mount_images(self) -> Path | None:
        """The node's image folder on its own small tmpfs (so a fault can fill it while
        the rest of the data directory, the spool included, has room), if this process
        may mount one (root); None otherwise."""
        folder = self.node.data / "images"
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0 or shutil.which("mount") is None:
            return None
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs",
                               str(folder)], capture_output=True, check=False)
        return folder if done.returncode == 0 else None

    def health(self) -> dict[str, Any]:
        """The camera's health row as the node last wrote it (state and alarms)."""
        assert self.engine is not None
        try:
            return health_repo.health_by_camera(self.engine).get(self.camera_id) or {}
        except StoreUnavailable:
            return {}

    def watch(self, seconds: float, seen: dict[str, Any]) -> None:
        """Wait ``seconds``, collecting the camera states and alarm codes health shows."""
        deadline = time.monotonic() + seconds
        while True:
            row = self.health()
            if row:
                seen.setdefault("health_states", set()).add(str(row["state"]))
                seen.setdefault("health_alarms", set()).update(
                    str(a["code"]) for a in row["alarms"] or [])
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(1.0, left))

    def warm_up(self, seconds: float = 240) -> None:
        """Wait for the node to run the camera and store a read (models compiled)."""
        until(lambda: self.camera_id in self.node.running(), seconds, "the camera to run")
        until(self.rows, seconds, "the first read")

    def close(self) -> None:
        if self.stand_in is not None:
            self.stand_in.stop()
        self.node.stop()
        self.camera.stop()
        if self.subscriber is not None:
            self.subscriber.close()
        if self.broker is not None:
            self.broker.stop()
        self.dispatch.down()
        if self.engine is not None:
            self.engine.dispose()
        self.cluster.remove()
        if self.images is not None:
            subprocess.run(["umount", "-l", str(self.images)], capture_output=True,
                           check=False)

    # -- counting ---------------------------------------------------------------------------

    @property
    def sinks(self) -> list[str]:
        return ["webhook", "mqtt"] if self.mqtt else ["webhook"]

    def rows(self) -> list[tuple[str, str, float]]:
        """Every stored read: (uuid, plate, seen_at as unix time)."""
        assert self.engine is not None
        with self.engine.connect() as conn:
            found = conn.execute(select(reads.c.uuid, reads.c.plate, reads.c.seen_at))
            return [(str(u), str(p), s.timestamp()) for u, p, s in found]

    def read_times(self) -> list[tuple[int, float]]:
        """(row id, seen_at as unix time) of every stored read, in the order stored."""
        assert self.engine is not None
        with self.engine.connect() as conn:
            found = conn.execute(select(reads.c.id, reads.c.seen_at).order_by(reads.c.id))
            return [(int(n), s.timestamp()) for n, s in found]

    def with_images(self) -> set[str]:
        """The uuids of the reads that have images."""
        assert self.engine is not None
        with self.engine.connect() as conn:
            return set(conn.execute(select(reads.c.uuid).join(
                read_images, read_images.c.read_id == reads.c.id).distinct()).scalars())

    def ledger(self, since: float, until_: float, blind: list[tuple[float, float]],
               accepted: set[str] | None = None) -> Ledger:
        """Count the window from ``since`` to ``until_``: the passages shown in it that
        did not overlap a ``blind`` interval (nothing ran the camera), the reads seen in
        it, ``accepted`` (reads the controller had journaled) and their hits."""
        assert self.engine is not None
        shown = self.camera.passages(whole=False)
        offered = [p for p in self.camera.passages() if since <= p.start and p.end <= until_
                   and not any(p.start - SLACK_SECONDS < b_end and b_start < p.end
                               for b_start, b_end in blind)]
        rows = self.rows()
        ledger = Ledger(offered=len(offered))
        by_passage: Counter[Passage] = Counter()
        window: set[str] = set()
        vehicle: dict[str, Passage | str] = {}  # read -> its passage (else itself)
        for uuid, plate, seen in rows:
            passage = next((p for p in shown if p.plate == plate
                            and p.start - SLACK_SECONDS <= seen <= p.end + SLACK_SECONDS), None)
            vehicle[uuid] = passage or uuid
            if since <= seen <= until_:
                window.add(uuid)
                ledger.unmatched += passage is None
            if passage is not None:
                by_passage[passage] += 1
        for passage in offered:
            ledger.read += by_passage[passage] > 0
        # Stored twice: a read of the window with a read of the same plate less than half
        # a round before it (the same vehicle; the plate comes by once a round). Counted
        # on the reads alone, so that a read whose passage the timeline does not place
        # (a camera lagging under load) is still checked.
        last_seen: dict[str, float] = {}
        for uuid, plate, seen in sorted(rows, key=lambda row: (row[1], row[2])):
            if uuid in window and seen - last_seen.get(plate, -1e12) < ROUND_SECONDS / 2:
                ledger.duplicated += 1
            last_seen[plate] = seen
        stored = {u for u, _p, _s in rows}
        journaled = accepted or set()
        ledger.accepted = len(window | journaled)
        lost = journaled - stored
        ledger.lost = len(lost)
        ledger.missing += [f"accepted read {u}" for u in sorted(lost)]
        listed = {u for u, p, _s in rows if u in window and p in self.listed}
        ledger.hits_expected = len(listed)
        hits = [h for h in hit_repo.list_hits(self.engine, limit=100_000)
                if str(h["read_uuid"]) in window]
        per_read = Counter(str(h["read_uuid"]) for h in hits)
        ledger.hits_raised = len(hits)
        ledger.hits_twice = sum(n > 1 for n in per_read.values())
        ledger.missing += [f"hit of read {u}" for u in sorted(listed - set(per_read))]
        webhook = self.dispatch.counts()
        mqtt = self.subscriber.counts() if self.subscriber is not None else Counter()
        received = {"webhook": _by_hit(webhook), "mqtt": _by_hit(mqtt)}
        for sink in self.sinks:
            times = [received[sink].get(str(h["uuid"]), 0) for h in hits]
            ledger.delivered[sink] = sum(n > 0 for n in times)
            ledger.sent_twice[sink] = sum(n > 1 for n in times)
            # Two hits delivered for one vehicle: dispatch acts twice.
            acted = Counter(vehicle[str(h["read_uuid"])]
                            for h, n in zip(hits, times, strict=True) if n > 0)
            ledger.delivered_twice[sink] = sum(n > 1 for n in acted.values())
            ledger.missing += [f"{sink} delivery of hit {h['uuid']}"
                               for h, n in zip(hits, times, strict=True) if n == 0]
        return ledger


def _by_hit(keys: Counter[str]) -> Counter[str]:
    """Deliveries per hit uuid (an idempotency key is ``HIT:SINK``)."""
    out: Counter[str] = Counter()
    for key, n in keys.items():
        out[key.split(":")[0]] += n
    return out


@contextmanager
def rig(root: Path | None = None, **options: Any) -> Iterator[Rig]:
    """A started, warmed-up rig in ``root`` (a temporary folder if None), closed after."""
    folder = root or Path(tempfile.mkdtemp(prefix="sightline-faults-"))
    made = root is None
    the_rig = Rig(folder, **options)
    try:
        the_rig.start()
        the_rig.warm_up()
        yield the_rig
    finally:
        the_rig.close()
        if made:
            shutil.rmtree(folder, ignore_errors=True)


# -- the faults ---------------------------------------------------------------------------

ROUND_SECONDS = len(PLATES) * (PASSAGE_SECONDS + GAP_SECONDS) + GAP_SECONDS


@dataclass
class Injected:
    """When a fault began and was cleared, when nothing ran the camera (``blind``), and
    the reads the controller had accepted but not yet stored (journaled) meanwhile."""

    began: float
    cleared: float
    blind: list[tuple[float, float]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)


# A fault is held past its duration until what it is about happened during it (a read
# spooled, a hit raised, a read taken), at most this much longer: recognition on a
# loaded machine misses passages, and a fault nothing passed through proves nothing.
HOLD_LIMIT = 300.0
# The camera health alarms of a stream that is down or being reconnected.
CAMERA_DOWN = {"stream_down", "reconnecting"}


def hold(rig: Rig, seconds: float, seen: dict[str, Any], happened: Callable[[], bool]) -> None:
    """Watch health for ``seconds``, then on until ``happened`` (see HOLD_LIMIT)."""
    rig.watch(seconds, seen)
    deadline = time.monotonic() + HOLD_LIMIT
    while not happened() and time.monotonic() < deadline:
        rig.watch(1.0, seen)


def hits_since(rig: Rig, since: float) -> bool:
    """Whether a hit was raised for a read seen after ``since``."""
    assert rig.engine is not None
    return any(h["seen_at"].timestamp() > since
               for h in hit_repo.list_hits(rig.engine, limit=20))


def journaled(node: Node) -> set[str]:
    """The reads ``node`` has accepted and not yet committed (its spool journal)."""
    path = node.journal
    lines = path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []
    return {json.loads(line)["read"]["uuid"] for line in lines if line.endswith("}")}


def postgres_restart(rig: Rig, _seconds: float) -> Injected:
    """PostgreSQL restarted (fast shutdown, then up again at once) mid-ingest."""
    began = time.time()
    rig.cluster.stop()
    accepted = journaled(rig.node)
    rig.cluster.start()
    return Injected(began, time.time(), accepted=accepted)


def postgres_outage(rig: Rig, seconds: float) -> Injected:
    """PostgreSQL stopped for ``seconds``: reads are spooled and replayed."""
    began = time.time()
    rig.cluster.stop()
    hold(rig, seconds, {}, lambda: bool(journaled(rig.node)))
    accepted = journaled(rig.node)  # taken during the outage, all spooled
    rig.cluster.start()
    return Injected(began, time.time(), accepted=accepted,
                    extra={"spooled": len(accepted)})


def sink_outage(rig: Rig, seconds: float, down: Callable[[], None],
                up: Callable[[], None]) -> Injected:
    """A hit sink down for ``seconds`` (held until a hit was raised meanwhile), then back."""
    began = time.time()
    down()
    hold(rig, seconds, {}, lambda: hits_since(rig, began))
    up()
    return Injected(began, time.time())


def receiver_outage(rig: Rig, seconds: float) -> Injected:
    """The dispatch receiver down for ``seconds`` (connection refused), then back."""
    return sink_outage(rig, seconds, rig.dispatch.down, rig.dispatch.up)


def mosquitto_restart(rig: Rig, seconds: float) -> Injected:
    """The MQTT broker stopped for ``seconds`` and started again."""
    assert rig.broker is not None
    return sink_outage(rig, seconds, rig.broker.stop, rig.broker.start)


def controller_sigkill(rig: Rig, _seconds: float) -> Injected:
    """``sightline run`` killed with SIGKILL under load (right after it stored a read of a
    listed plate, so its hit is on its way out) and started again. From the kill until
    the new process stores a read again nothing reads the camera (``blind``); every read
    the killed process had accepted (journaled, not yet committed) must be stored, and
    every hit delivered once."""
    before = {u for u, _p, _s in rig.rows()}
    until(lambda: any(p in rig.listed for u, p, _s in rig.rows() if u not in before), HOLD_LIMIT,
          "a read of a listed plate")
    began = time.time()
    rig.node.kill()
    accepted = journaled(rig.node)
    rig.node.start()
    stored = {u for u, _p, _s in rig.rows()}
    until(lambda: any(u not in stored for u, _p, _s in rig.rows()), 300,
          "the restarted node to store a read")
    reading = time.time()
    return Injected(began, reading, [(began, reading)], accepted,
                    {"journaled_at_kill": len(accepted),
                     "read_again_after_kill_s": round(reading - began, 1)})


def camera_killed(rig: Rig, seconds: float) -> Injected:
    """The camera process killed (SIGKILL), back after ``seconds`` on the same address:
    the controller reconnects with backoff, never dies; passages shown while the camera
    is up are read."""
    began = time.time()
    rig.camera.kill()
    seen: dict[str, Any] = {}
    hold(rig, seconds, seen, lambda: camera_down_seen(seen))
    rig.camera.start()
    cleared = time.time()
    return Injected(began, cleared, [(began, read_again(rig, cleared))], extra=_seen(seen))


def camera_down_seen(seen: dict[str, Any]) -> bool:
    """Whether health has said the camera's stream is down or reconnecting."""
    return bool(seen.get("health_alarms", set()) & CAMERA_DOWN)


def read_again(rig: Rig, since: float) -> float:
    """When the first passage after ``since`` that the node read was shown (the camera
    back, the node reconnected after its backoff): until then nothing could be read."""
    first: float = until(lambda: min((s for _u, _p, s in rig.rows() if s > since),
                                     default=None), 180, "a read from the camera again")
    return first


def camera_frozen(rig: Rig, seconds: float) -> Injected:
    """The camera process frozen (SIGSTOP) for ``seconds``, then let go (SIGCONT): a
    stalled stream. Blind until the camera's next round (its timeline moved)."""
    began = time.time()
    rig.camera.signal(signal.SIGSTOP)
    seen: dict[str, Any] = {}
    hold(rig, seconds, seen, lambda: camera_down_seen(seen))
    rig.camera.signal(signal.SIGCONT)
    cleared = time.time()
    resumed = rig.camera.next_round(cleared)
    return Injected(began, cleared, [(began, resumed)], extra=_seen(seen))


def camera_flapping(rig: Rig, seconds: float, period: float = 4.0) -> Injected:
    """The camera killed and started again every ``period`` seconds for ``seconds``."""
    began = time.time()
    seen: dict[str, Any] = {}
    flaps = 0
    while time.time() - began < seconds:
        rig.camera.kill()
        rig.watch(period / 2, seen)
        rig.camera.start()
        flaps += 1
        rig.watch(period / 2, seen)
    cleared = time.time()
    return Injected(began, cleared, [(began, read_again(rig, cleared))],
                    extra={"flaps": flaps, **_seen(seen)})


def camera_garbage(rig: Rig, seconds: float) -> Injected:
    """The camera's address answering garbage for ``seconds`` (random bytes to every
    connection, as a broken encoder or a wrong device might), then the camera again."""
    began = time.time()
    rig.camera.kill()
    seen: dict[str, Any] = {}
    with garbage_server(rig.camera.rtsp) as served:
        hold(rig, seconds, seen, lambda: camera_down_seen(seen))
    rig.camera.start()
    cleared = time.time()
    return Injected(began, cleared, [(began, read_again(rig, cleared))],
                    extra={"garbage_connections": served[0], **_seen(seen)})


@contextmanager
def garbage_server(port: int) -> Iterator[list[int]]:
    """Answer every connection to ``port`` with random bytes; yields [connections]."""
    served = [0]
    stop = threading.Event()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            served[0] += 1
            with conn:
                try:
                    conn.settimeout(1)
                    conn.recv(4096)
                    conn.sendall(os.urandom(4096))
                    conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: x\r\n\r\n" + os.urandom(2048))
                except OSError:
                    pass

    thread = threading.Thread(target=serve, name="garbage-camera")
    thread.start()
    try:
        yield served
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def images_disk_full(rig: Rig, seconds: float) -> Injected:
    """The disk holding the images full for ``seconds`` (the rig's tmpfs filled to the
    last byte): reads are stored without images, health says so, nothing stops."""
    if rig.images is None:
        raise RuntimeError("images_disk_full needs the image folder on its own tmpfs "
                           "(root, mount)")
    began = time.time()
    filler = rig.images / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 20))
                handle.flush()
        except OSError:
            pass
    seen: dict[str, Any] = {}
    try:
        hold(rig, seconds, seen, lambda: any(s > began for _u, _p, s in rig.rows())
             and "images_not_stored" in seen.get("health_alarms", set()))
    finally:
        filler.unlink()
    cleared = time.time()
    # Stored while the disk was full (built then: a read's images are written when its
    # passage ends, a moment after its time), the only reads without images.
    without = {u for u, _p, _s in rig.rows()} - rig.with_images()
    return Injected(began, cleared, extra={"reads_without_images": len(without),
                                           **_seen(seen)})


def clock_steps(rig: Rig, seconds: float) -> Injected:
    """The node's wall clock stepped back an hour for ``seconds``, then forward an hour
    again (libfaketime): the reads' times stay in order in the store (and true: the
    passages they are of are found) and the audit chain still verifies."""
    if not rig.clock_steps:
        raise RuntimeError("clock_steps needs libfaketime (apt-get install faketime)")
    last = max((n for n, _s in rig.read_times()), default=0)
    began = time.time()
    seen: dict[str, Any] = {}
    rig.clock.write_text("-1h\n")
    hold(rig, seconds, seen, lambda: any(n > last for n, _s in rig.read_times())
         and "wall_clock_stepped_back" in seen.get("health_alarms", set()))
    rig.clock.write_text("+0\n")
    rig.watch(2.0, seen)  # libfaketime reads its file again within a second
    cleared = time.time()
    read_again(rig, cleared)  # the reads taken during the steps are all stored by then
    times = [t for n, t in rig.read_times() if n >= last]  # from the last read before
    backwards = sum(later < earlier for earlier, later in itertools.pairwise(times))
    assert rig.engine is not None
    return Injected(began, cleared, extra={
        "reads_during_steps": len(times), "read_times_backwards": backwards,
        "read_time_span_s": round(max(times) - min(times), 1) if times else 0.0,
        "audit_chain_ok": audit.verify(rig.engine).ok, **_seen(seen)})


def two_nodes(rig: Rig) -> None:
    """Make the rig two nodes (``test_two_nodes``' set-up), once: node-a restarted with
    its own site S1 only, node-b beside it with site S2, standing in for S1."""
    assert rig.engine is not None
    if rig.stand_in is not None:
        return
    sites.create_site(rig.engine, code="S2", name="faults stand-in")
    rig.node.stop()
    node, runs = rig.settings["node"], rig.node.runs
    rig.node = Node("node-a", rig.root, {**rig.settings, "node": {
        **node, "sites": ["S1"]}}, rig.env)
    rig.node.runs = runs
    rig.stand_in = Node("node-b", rig.root, {**rig.settings, "node": {
        **node, "sites": ["S2"], "failover_sites": ["S1"]}}, rig.env)
    rig.node.start()
    rig.stand_in.start()
    until(lambda: rig.camera_id in rig.node.running(), 240, "node-a to run the camera")
    until(lambda: rig.stand_in is not None and rig.stand_in.health() is not None, 240,
          "node-b to answer")
    stored = {u for u, _p, _s in rig.rows()}
    until(lambda: any(u not in stored for u, _p, _s in rig.rows()), 240,
          "node-a to store a read")


def node_failover(rig: Rig, _seconds: float) -> Injected:
    """Two nodes (``test_two_nodes``' set-up): node-a runs site S1, node-b its own site
    S2 and stands in for S1. node-a is killed (SIGKILL) right after it stored a read of
    a listed plate: node-b takes the camera over (its lease lapsed) and reads it; node-a
    comes back, replays what it had journaled, and is handed its camera back. Blind
    from the kill until node-b stores a read, and during the hand-back."""
    assert rig.engine is not None
    two_nodes(rig)
    node_b = rig.stand_in
    assert node_b is not None
    before = {u for u, _p, _s in rig.rows()}
    until(lambda: any(p in rig.listed for u, p, _s in rig.rows() if u not in before), HOLD_LIMIT,
          "a read of a listed plate")
    began = time.time()
    rig.node.kill()
    accepted = journaled(rig.node)
    stored = {u for u, _p, _s in rig.rows()}
    until(lambda: rig.camera_id in node_b.running(), 120, "node-b to take the camera over")
    took_over = time.time()
    until(lambda: any(u not in stored for u, _p, _s in rig.rows()), 120,
          "node-b to store a read")
    reading = time.time()
    # node-a back: the camera is handed back to it, never run by both.
    both = 0
    handing = time.time()
    rig.node.start()
    while True:  # each sample asks the new owner first (see test_two_nodes.Sampler)
        on_a = rig.camera_id in rig.node.running()
        on_b = rig.camera_id in node_b.running()
        both += on_a and on_b
        if on_a and not on_b:
            break
        if time.time() - handing > 240:
            raise TimeoutError("node-a never got its camera back")
        time.sleep(0.25)
    handed = time.time()
    return Injected(began, handed, [(began, reading), (handing, handed + 1.0)], accepted, {
        "journaled_at_kill": len(accepted), "took_over_s": round(took_over - began, 1),
        "read_again_after_kill_s": round(reading - began, 1),
        "handed_back_s": round(handed - handing, 1), "both_ran": both})


def _seen(seen: dict[str, Any]) -> dict[str, Any]:
    return {key: sorted(value) for key, value in seen.items()}


FAULTS: dict[str, Callable[[Rig, float], Injected]] = {
    "postgres_restart": postgres_restart,
    "postgres_outage": postgres_outage,
    "receiver_outage": receiver_outage,
    "mosquitto_restart": mosquitto_restart,
    "controller_sigkill": controller_sigkill,
    "camera_killed": camera_killed,
    "camera_frozen": camera_frozen,
    "camera_flapping": camera_flapping,
    "camera_garbage": camera_garbage,
    "images_disk_full": images_disk_full,
    "clock_steps": clock_steps,
    "node_failover": node_failover,
}


# What a fault needs set up before its window opens.
PREPARE: dict[str, Callable[[Rig], None]] = {"node_failover": two_nodes}


def run_fault(rig: Rig, name: str, seconds: float, *, load: float = ROUND_SECONDS,
              recover_limit: float = 300.0, settle_limit: float = 120.0) -> dict[str, Any]:
    """Inject one fault while plates pass and return its figures (one JSON object):
    ``load`` seconds of passages before it, the fault, ``load`` seconds after it cleared
    (and recovered); then the window is counted (``Rig.ledger``)."""
    if name in PREPARE:
        PREPARE[name](rig)
    since = time.time()
    time.sleep(load)
    injected = FAULTS[name](rig, seconds)
    # Recovered: every read accepted before the fault cleared is stored, and each hit
    # raised by then delivered to every sink.
    recover_s: float | None
    try:
        until(lambda: rig.ledger(since, injected.cleared, injected.blind,
                                 injected.accepted).complete, recover_limit, "recovery")
        recover_s = round(time.time() - injected.cleared, 1)
    except TimeoutError:
        recover_s = None
    time.sleep(load)  # load flows on after the recovery
    ended = time.time() - SLACK_SECONDS
    try:
        ledger = until(lambda: (found := rig.ledger(since, ended, injected.blind,
                                                    injected.accepted)).complete
                       and found, settle_limit, "the last reads and hits")
    except TimeoutError:
        ledger = rig.ledger(since, ended, injected.blind, injected.accepted)
    rows = rig.rows()
    during = {u for u, _p, s in rows if injected.began <= s <= injected.cleared}
    after = [s for _u, _p, s in rows if s > injected.cleared]
    assert rig.engine is not None
    hits_during = [h for h in hit_repo.list_hits(rig.engine, limit=100_000)
                   if str(h["read_uuid"]) in during]
    line: dict[str, Any] = {
        "fault": name, "seconds": seconds,
        "reads_offered": ledger.offered, "reads_read": ledger.read,
        "reads_missed": ledger.offered - ledger.read, "reads_during_fault": len(during),
        "hits_during_fault": len(hits_during),
        "reads_accepted": ledger.accepted, "reads_stored": ledger.accepted - ledger.lost,
        "reads_lost": ledger.lost, "reads_duplicated": ledger.duplicated,
        "reads_unmatched": ledger.unmatched,
        "hits_expected": ledger.hits_expected, "hits_raised": ledger.hits_raised,
        "hits_duplicated": ledger.hits_twice,
        "hits_delivered": ledger.delivered,
        # Acted on twice by dispatch: two hits (two keys) for one vehicle; one hit sent
        # again under its key, which the receiver drops, is ``hits_sent_twice``.
        "hits_delivered_twice": ledger.delivered_twice,
        "hits_sent_twice": ledger.sent_twice,
        "hits_lost": {sink: ledger.hits_raised - n for sink, n in ledger.delivered.items()},
        "recover_s": recover_s,
        # The first read taken after the fault cleared: how soon the camera was read again
        # (a passage comes by every few seconds).
        "read_again_after_s": round(min(after) - injected.cleared, 1) if after else None,
        "fault_s": round(injected.cleared - injected.began, 1),
        "blind_s": round(sum(b - a for a, b in injected.blind), 1),
        "node_alive": rig.node.alive(), **injected.extra,
    }
    if ledger.missing:
        line["missing"] = ledger.missing[:10]
    return line
