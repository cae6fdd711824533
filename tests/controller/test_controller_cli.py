"""The ``sightline`` command end to end, as an operator runs it.

The commands run in-process (tests/cli_runner.py); one test starts the installed
console script as a real process, to show that it starts and exits as documented.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_runner import sightline, signed_in
from sqlalchemy import Engine, text

from controller.app import Controller
from controller.commands import demo as demo_command
from controller.demo import world
from controller.errors import ControllerError
from controller.store import accounts as account_repo
from controller.store import reads as read_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine

GOOD = "Tr1cky!Gnu-7"
# In-process, the accounts the commands create can be hashed with small argon2 parameters
# (tests/controller/test_users.py checks the production ones).
pytestmark = pytest.mark.usefixtures("cheap_argon2")


def test_user_lifecycle_and_audit_verify(cli_env: dict[str, str]) -> None:
    assert sightline(cli_env, "db", "upgrade").exit_code == 0
    # An administrator's login (user.add, training.record, login: three audit rows).
    cli_env = signed_in(cli_env, "ann.admin")
    added = sightline(cli_env, "user", "add", "officer.lee", "--role", "officer",
                      "--password-stdin", stdin=GOOD + "\n")
    assert added.exit_code == 0, added.stderr
    weak = sightline(cli_env, "user", "add", "officer.kim", "--role", "officer",
                     "--password-stdin", stdin="password1\n")
    assert weak.exit_code == 1
    assert "banned-password list" in weak.stderr
    assert sightline(cli_env, "user", "disable", "officer.lee").exit_code == 0
    listed = json.loads(sightline(cli_env, "user", "list", "--json").stdout.splitlines()[-1])
    assert [r for r in listed if r["username"] == "officer.lee"] == [
        {"username": "officer.lee", "role": "officer", "disabled": True, "full_name": "",
         "training": "none"}]
    verify = sightline(cli_env, "audit", "verify", "--json")
    assert verify.exit_code == 0
    report = json.loads(verify.stdout.splitlines()[-1])
    assert report["ok"] is True and report["rows"] == 3 + 3  # add, denied add, disable


def test_audit_verify_finds_a_row_edited_in_the_database(cli_env: dict[str, str]) -> None:
    cli_env = signed_in(cli_env, "ann.admin")  # three audit rows
    for name in ("analyst.a", "analyst.b", "analyst.c"):
        assert sightline(cli_env, "user", "add", name, "--role", "analyst", "--password-stdin",
                         stdin=GOOD + "\n").exit_code == 0
    assert "OK: 6 audit rows" in sightline(cli_env, "audit", "verify").stdout
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        conn.execute(text("UPDATE audit_events SET actor = 'someone.else' WHERE id = 2"))
    engine.dispose()
    broken = sightline(cli_env, "audit", "verify")
    assert broken.exit_code == 1
    assert "BROKEN at row 2" in broken.stdout


def test_installed_command_starts_and_gives_one_clear_message_for_a_bad_config(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    # A real process through the installed console script (the other tests run the
    # command in-process): it starts, and an expected error is one line and exit 2.
    bad = tmp_path / "bad.yaml"
    bad.write_text("web:\n  port: lots\n")
    script = Path(sys.executable).with_name("sightline")
    result = subprocess.run([str(script), "--config", str(bad), "config", "check"],
                            env=cli_env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert f"{bad}: web.port: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_shows_its_threads_on_sigusr1_and_stops_on_sigterm(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    # `sightline run` as an operator's service manager runs it: SIGUSR1 writes every
    # thread's stack to standard error (for a controller that does not stop), and the
    # controller runs on; SIGTERM stops it cleanly.
    port = world.free_port()
    config = tmp_path / "run.yaml"
    config.write_text(f"data_dir: {tmp_path / 'run-data'}\nweb:\n  port: {port}\n")
    env = {**cli_env, "SIGHTLINE_SECRET_KEY": "run-test-instance-secret-0123456789"}
    env.pop("SIGHTLINE_DATA_DIR")
    script = Path(sys.executable).with_name("sightline")
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        proc = subprocess.Popen([str(script), "--config", str(config), "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while not _answers(f"http://127.0.0.1:{port}/healthz"):
                assert proc.poll() is None, errors.read_text()
                assert time.monotonic() < deadline, errors.read_text()
                time.sleep(0.2)
            proc.send_signal(signal.SIGUSR1)
            deadline = time.monotonic() + 10
            while "most recent call first" not in errors.read_text():
                assert time.monotonic() < deadline, errors.read_text()
                time.sleep(0.1)
            assert proc.poll() is None and _answers(f"http://127.0.0.1:{port}/healthz")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0, errors.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Every thread: the event loop's (the main thread) and the web server's among them.
    dump = errors.read_text()
    assert "in run_forever" in dump and "waitress" in dump, dump
    assert dump.count("most recent call first") >= 3, dump


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


async def _request_stop(controller: Controller) -> None:
    controller.request_stop()


class _DemoRun:
    """Stops an in-process ``sightline demo`` as soon as what the test needs has happened.

    The demo runs on the test's main thread, as on an operator's terminal. This
    watcher, on a thread of its own, waits for the controller to run, then for at
    least ``reads`` reads and a hit in the database and every stored hit at the
    demo's receiver, and then asks the controller to stop as Ctrl-C would. The
    demo's ``--for`` only bounds a run that never gets there.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, database_url: str, reads: int) -> None:
        self.database_url, self.reads = database_url, reads
        self.controller: Controller | None = None
        self.peers: world.DemoPeers | None = None
        self.seen: tuple[int, int, int] | None = None  # reads, hits, hits delivered
        self.finished = threading.Event()
        run, start_peers = self, world.start_peers

        class Watched(Controller):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                run.controller = self

        def watched_peers() -> world.DemoPeers:
            run.peers = start_peers()
            return run.peers

        monkeypatch.setattr(demo_command, "Controller", Watched)
        monkeypatch.setattr(world, "start_peers", watched_peers)
        self.thread = threading.Thread(target=self._watch, name="demo-watcher")

    def _done(self, engine: Engine, peers: world.DemoPeers) -> bool:
        n_reads, n_hits = read_repo.count_reads_and_hits(engine)
        self.seen = (n_reads, n_hits, len(peers.receiver.received.hits))
        return n_reads >= self.reads and n_hits >= 1 and self.seen[2] == n_hits

    def _watch(self) -> None:
        engine = make_engine(self.database_url)
        try:
            while not self.finished.wait(0.2):  # until the command returns, polling
                controller, peers = self.controller, self.peers
                bridge = controller.bridge if controller is not None else None
                if (controller is None or peers is None or bridge is None
                        or not bridge.running() or not self._done(engine, peers)):
                    continue
                with contextlib.suppress(ControllerError):  # it stopped by itself meanwhile
                    bridge.call(_request_stop(controller))
                return
        finally:
            engine.dispose()


def test_demo_reads_plates_and_delivers_every_hit(cli_env: dict[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("web:\n  port: 0\n")
    run = _DemoRun(monkeypatch, cli_env["SIGHTLINE_DATABASE_URL"], reads=4)
    run.thread.start()
    try:
        result = sightline(cli_env, "--config", str(config), "demo", "--for", "100", "--json")
    finally:
        run.finished.set()
        run.thread.join()
    assert result.exit_code == 0, result.stderr
    assert "administrator: demo.chief" in result.stdout
    password = next(line.split()[-1] for line in result.stdout.splitlines()
                    if "password:" in line)
    assert len(password) >= 20
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["reads"] >= 4, (summary, run.seen)
    assert summary["hits"] >= 1 and summary["hits_delivered"] == summary["hits"], (summary,
                                                                                   run.seen)
    assert "DISPATCH RECEIVED HIT" in result.stdout
    # The demo administrator can sign in without an authenticator app, trained,
    # with a published policy to acknowledge.
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    try:
        user = user_repo.get(engine, "demo.chief")
        assert user["totp_exempt"] is True
        assert int(user["id"]) in account_repo.latest_training_by_user(engine)
        assert account_repo.current_policy(engine) is not None
    finally:
        engine.dispose()


def test_demo_without_ffmpeg_says_what_to_install(cli_env: dict[str, str], tmp_path: Path) -> None:
    # The virtual camera streams through ffmpeg: without it the demo stops at once and
    # says so, rather than running with a camera that never sends a frame.
    config = tmp_path / "demo.yaml"
    config.write_text("web:\n  port: 0\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**cli_env, "PATH": str(empty)}
    result = sightline(env, "--config", str(config), "demo", "--for", "5")
    assert result.exit_code != 0
    assert "ffmpeg, which is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_hotlist_import_reports_lines_and_json(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli_env = signed_in(cli_env, "ann.analyst", "analyst")
    good = tmp_path / "svs.txt"
    good.write_text("PLATE;STATE;TYPE\n7ABC123;CA;STOLEN\n7AB$;CA;STOLEN\n")
    # "svs" is no official feed in the shipped settings: it is entered by hand.
    hand = ("--case-number", "26-004512", "--reason", "burglary series",
            "--expires", (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    result = sightline(cli_env, "hotlist", "import", str(good), "--list", "svs", *hand,
                       "--json")
    assert result.exit_code == 0, result.stderr
    assert f"{good}:3: plate '7AB$'" in result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["imported"], report["refused"], report["version"]) == (1, False, 1)
    assert (report["official"], report["status"]) == (False, "pending")
    empty = tmp_path / "empty.csv"
    empty.write_text("plate\n")
    refused = sightline(cli_env, "hotlist", "import", str(empty), "--list", "svs", *hand)
    assert refused.exit_code == 1 and "refused" in refused.stdout
