"""The purpose window from the command line (462.5; issue 14 point 1).

``sightline purpose state|show|end`` open, show and end the same window the web's
/purpose form does (one per user, in the database), and every command that shows
plate data refuses without one, telling the user to run ``sightline purpose state``,
and names the window's purpose and case number in its audit entry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_runner import sightline, signed_in
from sqlalchemy import Engine

from controller.accounts import Caller, purpose
from controller.alerts import hotlists
from controller.settings import HotlistSettings, Settings
from controller.store import audit as audit_repo
from controller.store import hotlists as hotlist_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store import users as user_repo

pytestmark = pytest.mark.usefixtures("cheap_argon2")

WORK = ("--purpose", "Stolen vehicle investigation", "--case-number", "26-004512")
HINT = "sightline purpose state"


def last(engine: Engine, action: str) -> dict[str, Any]:
    rows = audit_repo.search(engine, action=action, limit=1)
    assert rows, f"no audit entry {action}"
    return dict(rows[0])


def as_stored(engine: Engine, username: str) -> Caller:
    """The stored user as a front end hands them to a use case (the web's view of them)."""
    user = user_repo.get(engine, username)
    return Caller(username=username, role=str(user["role"]), user_id=int(user["id"]),
                  client_addr="192.0.2.9", gate_ok=True)


def add_read(engine: Engine, plate: str) -> str:
    site = site_repo.create_site(engine, code=f"s-{uuid.uuid4().hex[:6]}", name="Elm St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    read = str(uuid.uuid4())
    seen = datetime.now(UTC) - timedelta(days=3)
    read_repo.insert_batch(engine, [{
        "uuid": read, "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": camera, "site_id": site,
        "seen_at": seen, "direction": "NB", "created_at": seen}])
    return read


def test_state_show_and_end_share_the_window_with_the_web(cli_env: dict[str, str],
                                                           engine: Engine) -> None:
    env = signed_in(cli_env, "cli.ofc", "officer")
    closed = sightline(env, "purpose", "show")
    assert closed.exit_code == 0 and "no purpose is open" in closed.stdout
    assert "Missing person" in closed.stdout  # the purposes to choose from
    unattested = sightline(env, "purpose", "state", *WORK)
    assert unattested.exit_code == 1 and "attest" in unattested.stderr
    bad = sightline(env, "purpose", "state", "--purpose", "curiosity", "--case-number", "1",
                    "--attest")
    assert bad.exit_code == 1 and "purpose" in bad.stderr
    assert last(engine, "purpose.state")["outcome"] == "denied"
    stated = sightline(env, "purpose", "state", *WORK, "--attest")
    assert stated.exit_code == 0, stated.stderr
    assert "Stolen vehicle investigation, case 26-004512" in stated.stdout
    # The web finds the same window for this user (the store is shared, not the shell).
    window = purpose.current(engine, as_stored(engine, "cli.ofc"))
    assert window is not None and (window.purpose, window.case_number) == (
        "Stolen vehicle investigation", "26-004512")
    logged = last(engine, "purpose.state")
    assert (logged["actor"], logged["outcome"], logged["case_number"]) == (
        "cli.ofc", "allowed", "26-004512")
    shown = sightline(env, "purpose", "show")
    assert "case 26-004512" in shown.stdout
    ended = sightline(env, "purpose", "end")
    assert ended.exit_code == 0 and "purpose ended" in ended.stdout
    assert purpose.current(engine, as_stored(engine, "cli.ofc")) is None
    assert last(engine, "purpose.end")["actor"] == "cli.ofc"
    assert "no purpose was open" in sightline(env, "purpose", "end").stdout


def test_a_window_stated_on_the_web_covers_the_commands(cli_env: dict[str, str],
                                                        engine: Engine) -> None:
    env = signed_in(cli_env, "web.ofc", "officer")
    purpose.state(engine, Settings(), as_stored(engine, "web.ofc"), purpose.PurposeForm(
        "Missing person", "26-000777", "yes"))
    shown = sightline(env, "purpose", "show")
    assert "purpose: Missing person, case 26-000777" in shown.stdout


def test_vendors_state_no_purpose_from_the_command_line(cli_env: dict[str, str]) -> None:
    env = signed_in(cli_env, "cli.vendor", "vendor")
    refused = sightline(env, "purpose", "state", *WORK, "--attest")
    assert refused.exit_code == 3 and refused.stderr.startswith("refused:")


def test_hold_export_needs_a_window_and_names_it(cli_env: dict[str, str], engine: Engine,
                                                 tmp_path: Path) -> None:
    env = signed_in(cli_env, "cli.ann", "analyst")
    read = add_read(engine, "7ABC123")
    placed = sightline(env, "hold", "create", "--case", "26-004512", "--reason", "suspect",
                       read)
    assert placed.exit_code == 0, placed.stderr
    hold_id = placed.stdout.strip()
    closed = sightline(env, "hold", "export", hold_id, "--out", str(tmp_path / "ev"))
    assert closed.exit_code == 1 and HINT in closed.stderr
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").iterdir())
    assert audit_repo.search(engine, action="export.evidence") == []
    assert sightline(env, "purpose", "state", *WORK, "--attest").exit_code == 0
    exported = sightline(env, "hold", "export", hold_id, "--out", str(tmp_path / "ev"))
    assert exported.exit_code == 0, exported.stderr
    assert Path(exported.stdout.strip()).parent == tmp_path / "ev"
    logged = last(engine, "export.evidence")
    assert (logged["actor"], logged["purpose"], logged["case_number"]) == (
        "cli.ann", "Stolen vehicle investigation", "26-004512")
    window = purpose.current(engine, as_stored(engine, "cli.ann"))
    assert window is not None and logged["data"]["window"] == window.id


def test_hotlist_historical_run_needs_a_window_and_names_it(cli_env: dict[str, str],
                                                            engine: Engine) -> None:
    env = signed_in(cli_env, "cli.ann", "analyst")
    signed_in(cli_env, "cli.chief", "administrator")
    add_read(engine, "7ABC123")
    hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("NCIC-CA",)),
                            b"plate\n7ABC123\n", "NCIC-CA", actor="feed")
    entry = hotlist_repo.list_entries(engine, "NCIC-CA")[0]["id"]
    asked = sightline(env, "hotlist", "historical", "request", str(entry), "--purpose",
                      "Stolen vehicle investigation", "--case-number", "26-9")
    assert asked.exit_code == 0, asked.stderr
    (request,) = hotlist_repo.list_historical_requests(engine)
    hotlists.decide_historical(engine, as_stored(engine, "cli.chief"), request["id"],
                               approve=True)
    closed = sightline(env, "hotlist", "historical", "run", str(request["id"]))
    assert closed.exit_code == 1 and HINT in closed.stderr
    assert hotlist_repo.get_historical_request(engine, request["id"])["runs"] == 0
    assert sightline(env, "purpose", "state", *WORK, "--attest").exit_code == 0
    ran = sightline(env, "hotlist", "historical", "run", str(request["id"]))
    assert ran.exit_code == 0, ran.stderr
    assert "7ABC123" in ran.stdout
    logged = last(engine, "search.historical")
    window = purpose.current(engine, as_stored(engine, "cli.ann"))
    assert window is not None
    assert (logged["outcome"], logged["plate"], logged["purpose"], logged["case_number"],
            logged["data"]["window"]) == (
        "allowed", "7ABC123", "Stolen vehicle investigation", "26-9", window.id)
