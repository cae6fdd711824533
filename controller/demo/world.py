"""The demo environment: a virtual camera, a demo hotlist, an activated program, and a
local dispatch receiver that prints each hit, all on loopback."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from controller import policy
from controller.accounts import users
from controller.alerts import hotlists, sinks
from controller.compliance import program, transparency
from controller.demo.receiver import HitReceiver
from controller.errors import ControllerError, NotFound
from controller.settings import HotlistSettings, Settings
from controller.settings.loader import settings_from_mapping
from controller.store import Engine, sites
from controller.store import accounts as account_repo
from controller.store import hotlists as hotlist_repo
from controller.store import users as user_repo

log = logging.getLogger("sightline.demo")

DEMO_ADMIN = "demo.chief"
DEMO_SITE = "DEMO-1"
DEMO_CAMERA = "Main St northbound"
DEMO_PLATES = ["7ABC123", "5DEF678", "8GHJ234", "4KLM567", "6NPR890", "3STU456"]
DEMO_LISTED = {"5DEF678": "stolen", "6NPR890": "warrant", "3STU456": "missing"}
SECRET_ENV = "SIGHTLINE_DEMO_WEBHOOK_SECRET"  # noqa: S105 - a variable name
RECEIVER_SINK = "demo-dispatch"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_admin(engine: Engine, settings: Settings) -> str:
    """Create the demo administrator, or give it a new password; return the password.

    The account is trained (a recorded demo course) and exempt from the second factor,
    both audited, so that a person can sign in without an authenticator app; it
    still acknowledges the policy at first sign-in.
    """
    # 20 URL-safe characters: a passphrase under the CJIS rules, printed once.
    password = secrets.token_urlsafe(15)
    try:
        user_repo.get(engine, DEMO_ADMIN)
    except NotFound:
        users.add_user(engine, settings.security, username=DEMO_ADMIN, role="administrator",
                       password=password, actor="demo", full_name="Demo ALPR Administrator")
    else:
        users.reset_password(engine, settings.security, username=DEMO_ADMIN,
                             password=password, actor="demo")
    user = user_repo.get(engine, DEMO_ADMIN)
    if not user["totp_exempt"]:
        users.set_totp_exempt(engine, username=DEMO_ADMIN, exempt=True, actor="demo",
                              reason="demo account on loopback; enrol a second factor for "
                                     "real use")
    trained = account_repo.latest_training_by_user(engine).get(int(user["id"]))
    today = datetime.now(UTC).date()
    if not policy.training_current(trained, today, settings.security.training_valid_days):
        users.record_training(engine, username=DEMO_ADMIN, completed_on=today,
                              course="Sightline ALPR user training (demo)",
                              trainer="Sightline demo", actor="demo")
    return password


def provision(engine: Engine, stream_uri: str) -> None:
    """Site, camera (pointed at this run's virtual camera), program activation, hotlist."""
    try:
        site_id = int(sites.get_site(engine, DEMO_SITE)["id"])
    except NotFound:
        site_id = sites.create_site(engine, code=DEMO_SITE, name="Demo: Main St & 5th",
                                    latitude=32.9478, longitude=-115.6189)
    cameras = [c for c in sites.list_cameras(engine) if c["site_id"] == site_id]
    if cameras:
        sites.update_camera(engine, cameras[0]["id"], {"stream_uri": stream_uri,
                                                       "enabled": True})
    else:
        sites.create_camera(engine, site_id, {
            "name": DEMO_CAMERA, "host": "127.0.0.1", "stream_uri": stream_uri,
            "manufacturer": "PythonCam", "model": "VirtualCam-1", "heading": "NB"})
    if account_repo.current_policy(engine) is None:
        document = resources.files("controller").joinpath("data/demo-policy.md").read_bytes()
        transparency.publish_document(engine, version="demo-1", title="Demo ALPR policy",
                                     adopted_on=datetime.now(UTC).date(),
                                     filename="demo-policy.md", data=document, actor="demo")
    if not program.status(engine).active:
        today = datetime.now(UTC).date()
        program.activate(engine, hearing_on=today, adopted_on=today,
                         resolution="DEMO-2026-01", actor="demo")
    if not any(h["name"] == "demo" for h in hotlist_repo.list_hotlists(engine)):
        rows = "".join(f"{p},CA,{c},DEMO{i:04d}\n"
                       for i, (p, c) in enumerate(sorted(DEMO_LISTED.items())))
        # The demo list stands in for the state's feed: an official feed, in force at once.
        hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("demo",)),
                                f"plate,state,category,ncic\n{rows}".encode(), "demo",
                                actor="demo")


@dataclass
class DemoPeers:
    """The processes and servers the demo runs beside the controller."""

    camera: subprocess.Popen[str]
    stream_uri: str
    receiver: HitReceiver

    def stop(self) -> None:
        """Stop the camera and the receiver."""
        self.camera.terminate()
        try:
            self.camera.wait(10)
        except subprocess.TimeoutExpired:
            self.camera.kill()
            self.camera.wait()
        if self.camera.stdout:
            self.camera.stdout.close()
        self.receiver.stop()


def register_receiver(engine: Engine, url: str) -> None:
    """Point the demo's dispatch sink at this run's receiver (a new port each run), so the
    registry, which decides where hits go, names it; audited."""
    sinks.point_loopback_sink(engine, RECEIVER_SINK, url, secret_env=SECRET_ENV,
                              actor="system:demo")


def print_hit(payload: dict[str, Any]) -> None:
    """What the demo's dispatch receiver shows for each hit."""
    entry = payload.get("hotlist_entry") or {}
    print(f"DISPATCH RECEIVED HIT: {payload['plate']} ({entry.get('category')}, "
          f"list {entry.get('list')}) at {payload['camera']['name']} {payload['time']} "
          f"-- {payload['verification']}", flush=True)


def start_peers() -> DemoPeers:
    """Start the virtual camera and the receiver (loopback only)."""
    # ipycam encodes its RTSP stream through ffmpeg; without it the camera answers but
    # never sends a frame, and the demo would run on silently with nothing to read.
    if shutil.which("ffmpeg") is None:
        raise ControllerError(
            "the demo camera streams through ffmpeg, which is not installed: "
            "run `make demo` (it installs it) or `sudo apt-get install ffmpeg`"
        )
    secret = os.environ.setdefault(SECRET_ENV, secrets.token_hex(16))
    receiver = HitReceiver(secret.encode(), on_hit=print_hit)
    receiver.start()
    onvif, rtsp = free_port(), free_port()
    camera = subprocess.Popen(
        [sys.executable, "-m", "controller.demo.camera", "--onvif-port", str(onvif),
         "--rtsp-port", str(rtsp), "--plates", ",".join(DEMO_PLATES), "--fps", "10"],
        stdout=subprocess.PIPE, text=True)
    assert camera.stdout is not None
    line = camera.stdout.readline()
    if not line.startswith("READY"):
        receiver.stop()
        camera.kill()
        camera.wait()
        raise ControllerError(f"the demo camera did not start: {line.strip() or 'no output'}")
    return DemoPeers(camera, line.split()[1], receiver)


def with_receiver(settings: Settings, receiver: HitReceiver) -> Settings:
    """The demo's settings: the local receiver as the dispatch webhook."""
    raw = settings.model_dump(mode="json")
    raw["dispatch"] = {**raw["dispatch"], "webhooks": [
        {"name": RECEIVER_SINK, "url": receiver.url, "secret_env": SECRET_ENV}]}
    return settings_from_mapping(raw, "(demo)", env={})
