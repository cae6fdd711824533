"""The controller killed with SIGKILL mid-stream and restarted loses no accepted read or hit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from integration_peers import RECEIVER_SECRET, demo_camera
from sqlalchemy import Engine, select

from controller.accounts import users
from controller.alerts import hotlists
from controller.compliance import program
from controller.demo.receiver import HitReceiver
from controller.settings import HotlistSettings
from controller.store import hits as hit_repo
from controller.store import sites
from controller.store.schema import reads

PLATES = ["7ABC123", "5DEF678", "8GHJ234", "4KLM567", "6NPR890"]
LISTED = ["5DEF678", "8GHJ234", "6NPR890"]


def stored_uuids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(reads.c.uuid)).scalars())


def wait(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("timed out")


def test_sigkill_mid_stream_then_restart(engine: Engine, cli_env: dict[str, str],
                                         receiver: HitReceiver, tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({
        "web": {"port": 0},
        "inference": {"warm_up": False},
        "dispatch": {"webhooks": [{"name": "cad", "url": receiver.url,
                                   "secret_env": "SIGHTLINE_CRASH_RECEIVER_SECRET"}]},
    }))
    env = {**cli_env, "SIGHTLINE_CRASH_RECEIVER_SECRET": RECEIVER_SECRET}
    listed = tmp_path / "svs.csv"
    listed.write_text("plate,category\n" + "".join(f"{p},stolen\n" for p in LISTED))
    hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("svs",)), listed, "svs",
                           actor="t")
    users.publish_policy(engine, version="462-test", title="Policy 462",
                         adopted_on=date(2026, 1, 2), text="ALPR policy", actor="t")
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution="R-1", actor="t")
    journal = Path(cli_env["SIGHTLINE_DATA_DIR"]) / "spool" / "journal.jsonl"
    command = [sys.executable, "-m", "controller", "--config", str(config), "run"]
    with demo_camera(PLATES, lead_in=4) as url:
        site = sites.create_site(engine, code="S1", name="s")
        sites.create_camera(engine, site, {"name": "c1", "host": "127.0.0.1",
                                           "stream_uri": url})
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            wait(lambda: len(stored_uuids(engine)) >= 2, 90)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        accepted = stored_uuids(engine)
        if journal.exists():  # journaled before the kill: accepted, maybe not committed
            accepted |= {json.loads(line)["read"]["uuid"]
                         for line in journal.read_text().splitlines()
                         if line.endswith("}")}
        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            assert second.stderr is not None
            for line in second.stderr:  # started: the journal has been replayed
                if "controller running" in line:
                    break
            wait(lambda: accepted <= stored_uuids(engine), 60)
            wait(lambda: hit_repo.delivery_counts(engine).get("pending", 0) == 0
                 and len(hit_repo.list_hits(engine)) > 0, 60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0
            if second.stderr:
                second.stderr.close()
    assert accepted <= stored_uuids(engine)
    counts = hit_repo.delivery_counts(engine)
    hits = hit_repo.list_hits(engine, limit=1000)
    assert set(counts) == {"delivered"} and counts["delivered"] == len(hits)
    assert {h["uuid"] for h in hits} == {k.split(":")[0] for k in receiver.received.hits}
    assert {h["plate"] for h in hits} <= set(LISTED)
    assert receiver.received.bad_signatures == 0
