"""The ``sightline`` command end to end, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from controller.store import accounts as account_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine

GOOD = "Tr1cky!Gnu-7"


def sightline(env: dict[str, str], *args: str, stdin: str = "",
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_user_lifecycle_and_audit_verify(cli_env: dict[str, str]) -> None:
    assert sightline(cli_env, "db", "upgrade").returncode == 0
    added = sightline(cli_env, "user", "add", "officer.lee", "--role", "officer",
                      "--password-stdin", stdin=GOOD + "\n")
    assert added.returncode == 0, added.stderr
    weak = sightline(cli_env, "user", "add", "officer.kim", "--role", "officer",
                     "--password-stdin", stdin="password1\n")
    assert weak.returncode == 1
    assert "banned-password list" in weak.stderr
    assert sightline(cli_env, "user", "disable", "officer.lee").returncode == 0
    listed = json.loads(sightline(cli_env, "user", "list", "--json").stdout.splitlines()[-1])
    assert listed == [{"username": "officer.lee", "role": "officer", "disabled": True,
                       "full_name": ""}]
    verify = sightline(cli_env, "audit", "verify", "--json")
    assert verify.returncode == 0
    report = json.loads(verify.stdout.splitlines()[-1])
    assert report["ok"] is True and report["rows"] == 3  # add, denied add, disable


def test_audit_verify_finds_a_row_edited_in_the_database(cli_env: dict[str, str]) -> None:
    for name in ("analyst.a", "analyst.b", "analyst.c"):
        assert sightline(cli_env, "user", "add", name, "--role", "analyst", "--password-stdin",
                         stdin=GOOD + "\n").returncode == 0
    assert "OK: 3 audit rows" in sightline(cli_env, "audit", "verify").stdout
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        conn.execute(text("UPDATE audit_events SET actor = 'someone.else' WHERE id = 2"))
    engine.dispose()
    broken = sightline(cli_env, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at row 2" in broken.stdout


def test_bad_config_gives_one_clear_message(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("web:\n  port: lots\n")
    result = sightline(cli_env, "--config", str(bad), "config", "check")
    assert result.returncode == 2
    assert f"{bad}: web.port: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_reads_plates_and_delivers_every_hit(cli_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("web:\n  port: 0\n")
    result = sightline(cli_env, "--config", str(config), "demo", "--for", "40", "--json",
                       timeout=120)
    assert result.returncode == 0, result.stderr
    assert "administrator: demo.chief" in result.stdout
    password = next(line.split()[-1] for line in result.stdout.splitlines()
                    if "password:" in line)
    assert len(password) >= 20
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["reads"] >= 4, summary
    assert summary["hits"] >= 1 and summary["hits_delivered"] == summary["hits"], summary
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
    result = sightline(env, "--config", str(config), "demo", "--for", "5", timeout=60)
    assert result.returncode != 0
    assert "ffmpeg, which is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_hotlist_import_reports_lines_and_json(cli_env: dict[str, str], tmp_path: Path) -> None:
    good = tmp_path / "svs.txt"
    good.write_text("PLATE;STATE;TYPE\n7ABC123;CA;STOLEN\n7AB$;CA;STOLEN\n")
    result = sightline(cli_env, "hotlist", "import", str(good), "--list", "svs", "--json")
    assert result.returncode == 0, result.stderr
    assert f"{good}:3: plate '7AB$'" in result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["imported"], report["refused"], report["version"]) == (1, False, 1)
    empty = tmp_path / "empty.csv"
    empty.write_text("plate\n")
    refused = sightline(cli_env, "hotlist", "import", str(empty), "--list", "svs")
    assert refused.returncode == 1 and "refused" in refused.stdout
