"""The command line is a Sightline user (policy 462.5.1, 462.11(a), 462.4.1).

``sightline login`` with password and TOTP (through the web login's own checks,
throttle and audit), its short-lived token, ``logout``, the training gate, and
the first administrator's bootstrap on a fresh install, up to a web login that
works without anyone touching the database.
"""

from __future__ import annotations

import asyncio
import re
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from cli_runner import PASSWORD, sightline, signed_in
from flask import Flask
from sqlalchemy import Engine
from tests_web_helpers import Auth
from totp_codes import next_code

from controller.accounts import sessions, tokens, users
from controller.bridge import Bridge
from controller.cli import EXIT_NOT_SIGNED_IN, EXIT_REFUSED
from controller.metrics import Metrics
from controller.sealing import bind_instance_secret, instance_secret
from controller.settings import SecuritySettings, Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine

pytestmark = pytest.mark.usefixtures("cheap_argon2")
TRAINING = ("--course", "ALPR 462 user course", "--trained-on", "2026-11-02",
            "--trainer", "Sgt. Dana Cole")


@pytest.fixture
def db(cli_env: dict[str, str]) -> Iterator[Engine]:
    """The command's database, keyed with the command's instance secret."""
    assert sightline(cli_env, "db", "upgrade").exit_code == 0
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"], pool_size=2)
    bind_instance_secret(engine, instance_secret(Path(cli_env["SIGHTLINE_DATA_DIR"])))
    yield engine
    engine.dispose()


def bootstrap(env: dict[str, str], name: str = "ann.admin", *extra: str):  # type: ignore[no-untyped-def]
    return sightline(env, "bootstrap", name, "--password-stdin", *TRAINING, *extra,
                     stdin=PASSWORD + "\n")


def enrolled(engine: Engine, username: str, role: str, *, trained: bool = True) -> str:
    """Make an account with an enrolled authenticator; return its TOTP secret."""
    users.add_user(engine, SecuritySettings(), username=username, role=role, password=PASSWORD,
                   actor="test")
    if trained:
        users.record_training(engine, username=username, course="ALPR 462",
                              completed_on=date.today() - timedelta(days=1),
                              trainer="Sgt. T", actor="test")
    secret = pyotp.random_base32()
    account_repo.set_totp(engine, int(user_repo.get(engine, username)["id"]), secret,
                          enrolled=True)
    return secret


def login(env: dict[str, str], username: str, code: str, *extra: str):  # type: ignore[no-untyped-def]
    return sightline(env, "login", "-u", username, "--password-stdin", "--code", code, *extra,
                     stdin=PASSWORD + "\n")


def test_data_commands_refuse_without_a_login(cli_env: dict[str, str], db: Engine) -> None:
    enrolled(db, "ann.admin", "administrator")
    for args in (("user", "add", "eve.new", "--role", "administrator", "--password-stdin"),
                 ("retention", "propose"), ("program", "activate", "--hearing", "2026-01-05",
                                                "--adopted", "2026-01-06", "--resolution", "R"),
                 ("mask", "lift", "1", "--order", "CR", "--court", "C", "--expires",
                  "2099-01-01"), ("hold", "export", "1", "--out", "/tmp/x"),
                 ("user", "list")):
        result = sightline(cli_env, *args, stdin=PASSWORD + "\n")
        assert result.exit_code == EXIT_NOT_SIGNED_IN, (args, result.stderr)
        assert "not signed in" in result.stderr and "sightline login" in result.stderr
    assert [u["username"] for u in users.list_users(db)] == ["ann.admin"]


def test_login_with_password_and_code_then_commands_run_as_that_user(
        cli_env: dict[str, str], db: Engine) -> None:
    secret = enrolled(db, "ann.admin", "administrator")
    signed = login(cli_env, "ann.admin", next_code(db, "ann.admin", secret))
    assert signed.exit_code == 0, signed.stderr
    assert "signed in as ann.admin (administrator) until" in signed.stderr
    token_file = Path(cli_env["SIGHTLINE_TOKEN_FILE"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() not in signed.stdout + signed.stderr
    assert sightline(cli_env, "whoami").stdout.startswith("ann.admin (administrator)")
    added = sightline(cli_env, "user", "add", "lee.officer", "--role", "officer",
                      "--password-stdin", stdin="Tr1cky!Gnu-7\n")
    assert added.exit_code == 0, added.stderr
    (entry,) = audit_repo.search(db, action="user.add", actor="ann.admin")
    assert entry["client_addr"].startswith("cli:") and entry["data"]["username"] == "lee.officer"
    (signin,) = [r for r in audit_repo.search(db, action="login") if r["data"].get("client")]
    assert (signin["actor"], signin["data"]["client"]) == ("ann.admin", "cli")
    # The stored id is the token's SHA-256, never the token.
    token = token_file.read_text().strip()
    assert tokens.resolve(db, token, client_addr="cli:test")["username"] == "ann.admin"


def test_first_login_enrols_the_authenticator(cli_env: dict[str, str], db: Engine) -> None:
    users.add_user(db, SecuritySettings(), username="ann.admin", role="administrator",
                   password=PASSWORD, actor="test")
    first = login(cli_env, "ann.admin", "000000")
    assert first.exit_code == EXIT_REFUSED and "code is not valid" in first.stderr
    key = re.search(r"key: ([A-Z2-7]+)", first.stderr)
    assert key and "otpauth://totp/" in first.stderr
    second = login(cli_env, "ann.admin", next_code(db, "ann.admin", key.group(1)))
    assert second.exit_code == 0, second.stderr
    assert user_repo.get(db, "ann.admin")["totp_enrolled"]
    assert [r["outcome"] for r in audit_repo.search(db, action="login.totp_enrolled")] == \
        ["allowed"]


def test_wrong_codes_are_refused_and_throttled_like_the_web(cli_env: dict[str, str],
                                                           db: Engine) -> None:
    secret = enrolled(db, "ann.admin", "administrator")
    rules = SecuritySettings()
    for _ in range(rules.lockout_attempts):
        wrong = login(cli_env, "ann.admin", "123456")
        assert wrong.exit_code == EXIT_REFUSED and "code is not valid" in wrong.stderr
    right = login(cli_env, "ann.admin", next_code(db, "ann.admin", secret))
    assert right.exit_code == EXIT_REFUSED and "account locked" in right.stderr
    assert not Path(cli_env["SIGHTLINE_TOKEN_FILE"]).exists()
    failed = audit_repo.search(db, action="login.totp_failed")
    assert len(failed) == rules.lockout_attempts
    assert all(r["client_addr"].startswith("cli:") for r in failed)
    assert audit_repo.search(db, action="login.lockout")
    (locked,) = audit_repo.search(db, action="login.failed")
    assert locked["data"]["reason"] == "locked"
    password = sightline(cli_env, "login", "-u", "ann.admin", "--password-stdin",
                         stdin="Wrong-Password-1\n")
    assert password.exit_code == EXIT_REFUSED and "account locked" in password.stderr


def test_revoked_and_expired_tokens_are_refused(cli_env: dict[str, str], db: Engine) -> None:
    secret = enrolled(db, "ann.admin", "administrator")
    printed = login(cli_env, "ann.admin", next_code(db, "ann.admin", secret), "--print-token")
    assert printed.exit_code == 0, printed.stderr
    token = printed.stdout.strip()
    env = {**cli_env, "SIGHTLINE_TOKEN": token}
    assert sightline(env, "user", "list").exit_code == 0
    assert sightline(env, "logout").stdout.startswith("signed out ann.admin")
    after = sightline(env, "user", "list")
    assert after.exit_code == EXIT_NOT_SIGNED_IN and "ended (logout)" in after.stderr
    user = user_repo.get(db, "ann.admin")
    old, _ = tokens.issue(db, SecuritySettings(), user, client_addr="cli:test",
                          now=datetime.now(UTC) - timedelta(minutes=31))
    expired = sightline({**cli_env, "SIGHTLINE_TOKEN": old}, "user", "list")
    assert expired.exit_code == EXIT_NOT_SIGNED_IN and "expired" in expired.stderr
    reasons = [r["data"]["reason"] for r in audit_repo.search(db, action="access.denied",
                                                              actor="ann.admin")]
    assert any("expired" in r for r in reasons) and any("logout" in r for r in reasons)
    # A compromise report ends command-line sign-ins too (462.5.2(2)).
    live, _ = tokens.issue(db, SecuritySettings(), user, client_addr="cli:test")
    sessions.report_compromised(db, user, "cli:test")
    gone = sightline({**cli_env, "SIGHTLINE_TOKEN": live}, "user", "list")
    assert gone.exit_code == EXIT_NOT_SIGNED_IN and "compromised" in gone.stderr


def test_a_token_file_others_can_read_is_not_used(cli_env: dict[str, str], db: Engine) -> None:
    secret = enrolled(db, "ann.admin", "administrator")
    assert login(cli_env, "ann.admin", next_code(db, "ann.admin", secret)).exit_code == 0
    Path(cli_env["SIGHTLINE_TOKEN_FILE"]).chmod(0o644)
    result = sightline(cli_env, "user", "list")
    assert result.exit_code == EXIT_NOT_SIGNED_IN and "readable by others" in result.stderr


def test_role_and_training_refusals_are_audited(cli_env: dict[str, str], db: Engine) -> None:
    officer = signed_in(cli_env, "lee.officer", "officer")
    refused = sightline(officer, "retention", "purge", "1")
    assert refused.exit_code == EXIT_REFUSED
    assert "officer role may not use compliance.manage" in refused.stderr
    (entry,) = audit_repo.search(db, action="retention.purge")
    assert (entry["actor"], entry["outcome"]) == ("lee.officer", "denied")
    untrained = signed_in(cli_env, "new.admin", "administrator", trained=False)
    gated = sightline(untrained, "program", "activate", "--hearing", "2026-01-05",
                      "--adopted", "2026-01-06", "--resolution", "R-1")
    assert gated.exit_code == EXIT_REFUSED and "462.4.1" in gated.stderr
    (entry,) = audit_repo.search(db, action="program.activate")
    assert (entry["actor"], entry["outcome"]) == ("new.admin", "denied")
    shown = sightline(untrained, "whoami")
    assert "No ALPR training is recorded for you" in shown.stdout


def test_a_new_user_replaces_the_temporary_password_then_works(cli_env: dict[str, str],
                                                               db: Engine) -> None:
    admin = signed_in(cli_env, "ann.admin")
    assert sightline(admin, "user", "add", "lee.officer", "--role", "officer",
                     "--password-stdin", stdin="Temp-Pass-2026\n").exit_code == 0
    assert sightline(admin, "user", "training", "lee.officer", "--course", "ALPR 462",
                     "--completed-on", "2026-11-03", "--trainer", "Sgt. T").exit_code == 0
    token, _ = tokens.issue(db, SecuritySettings(), user_repo.get(db, "lee.officer"),
                            client_addr="cli:test")
    officer = {**cli_env, "SIGHTLINE_TOKEN": token}
    gated = sightline(officer, "hold", "list")
    assert gated.exit_code == EXIT_REFUSED and "462.4.1" in gated.stderr
    assert "You must choose a new password" in sightline(officer, "whoami").stdout
    changed = sightline(officer, "password", "--password-stdin",
                        stdin="Temp-Pass-2026\nTr1cky!Gnu-7\n")
    assert changed.exit_code == 0, changed.stderr
    assert sightline(officer, "hold", "list").exit_code == 0
    (entry,) = audit_repo.search(db, action="user.password", actor="lee.officer")
    assert entry["outcome"] == "allowed" and entry["client_addr"].startswith("cli:")


def test_bootstrap_creates_a_trained_administrator_only_once(cli_env: dict[str, str],
                                                             db: Engine) -> None:
    made = bootstrap(cli_env)
    assert made.exit_code == 0, made.stderr
    user = user_repo.get(db, "ann.admin")
    assert user["role"] == "administrator" and not user["must_change_password"]
    assert sessions.missing_for_access(db, SecuritySettings(), user) == []
    (record,) = account_repo.list_training(db, int(user["id"]))
    assert (record["completed_on"], record["trainer"]) == (date(2026, 11, 2), "Sgt. Dana Cole")
    (entry,) = audit_repo.search(db, action="user.bootstrap")
    assert entry["actor"] == "ann.admin" and entry["client_addr"].startswith("cli:")
    again = bootstrap(cli_env, "eve.admin")
    assert again.exit_code == EXIT_REFUSED and "administrator exists already" in again.stderr
    assert [r["outcome"] for r in audit_repo.search(db, action="user.bootstrap")] == \
        ["denied", "allowed"]
    added = sightline(cli_env, "user", "add", "eve.admin", "--role", "administrator",
                      "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == EXIT_NOT_SIGNED_IN
    assert [u["username"] for u in users.list_users(db)] == ["ann.admin"]


def test_bootstrap_acknowledges_the_published_policy(cli_env: dict[str, str],
                                                     db: Engine) -> None:
    users.publish_policy(db, version="2026-1", title="ALPR policy 462",
                         adopted_on=date(2026, 1, 5), text="Policy 462 text", actor="test")
    unread = bootstrap(cli_env)
    assert unread.exit_code == 1 and "acknowledge_policy" in unread.stderr
    assert users.list_users(db) == []  # nothing half-made
    made = bootstrap(cli_env, "ann.admin", "--acknowledge-policy", "2026-1")
    assert made.exit_code == 0, made.stderr
    user = user_repo.get(db, "ann.admin")
    assert sessions.missing_for_access(db, SecuritySettings(), user) == []
    assert [r["actor"] for r in audit_repo.search(db, action="policy.acknowledge")] == \
        ["ann.admin"]


@pytest.fixture
def web(settings: Settings, db: Engine) -> Iterator[Flask]:
    """The web application on the command's database, as ``sightline run`` serves it."""
    from web import create_app

    loop = asyncio.new_event_loop()
    application = create_app(settings, Bridge(loop), engine=db, metrics=Metrics(),
                             secret_key="test-secret")
    application.config["TESTING"] = True
    yield application
    loop.close()


def test_fresh_install_walk_to_a_working_web_login(cli_env: dict[str, str], db: Engine,
                                                   web: Flask) -> None:
    """`db upgrade` (the fixture), `bootstrap`, then the web: nobody edits the database."""
    assert bootstrap(cli_env).exit_code == 0
    auth = Auth(web, web.test_client(), db)
    sent = auth.post("/login", {"username": "ann.admin", "password": PASSWORD,
                                "banner_ack": "yes"})
    assert sent.status_code == 302 and sent.location.endswith("/login/enrol")
    page = auth.client.get("/login/enrol").get_data(as_text=True)
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert match
    secret = match.group(1).replace(" ", "")
    done = auth.post("/login/enrol", {"code": next_code(db, "ann.admin", secret)})
    assert done.status_code == 302 and not done.location.endswith("/access")
    home = auth.client.get("/")
    assert home.status_code == 200
    assert auth.client.get("/admin/users").status_code == 200
    # The same administrator on the command line, with the authenticator just enrolled.
    signed = login(cli_env, "ann.admin", next_code(db, "ann.admin", secret))
    assert signed.exit_code == 0, signed.stderr
    assert sightline(cli_env, "program", "status").exit_code == 0


def test_the_demo_administrator_works_on_the_command_line(cli_env: dict[str, str], db: Engine,
                                                          settings: Settings) -> None:
    """The demo's own world: its administrator signs in and, once the policy is
    acknowledged through the supported command, works (462.4.1, 462.13)."""
    from controller.demo import world

    password = world.ensure_admin(db, settings)
    world.provision(db, "rtsp://127.0.0.1:9/demo")
    signed = sightline(cli_env, "login", "-u", world.DEMO_ADMIN, "--password-stdin",
                       stdin=password + "\n")
    assert signed.exit_code == 0, signed.stderr  # exempt from TOTP on loopback, audited
    assert "acknowledge policy version demo-1" in signed.stderr
    assert sightline(cli_env, "program", "status").exit_code == EXIT_REFUSED
    assert sightline(cli_env, "policy", "acknowledge", "demo-1").exit_code == 0
    status = sightline(cli_env, "program", "status")
    assert status.exit_code == 0 and "active" in status.stdout
