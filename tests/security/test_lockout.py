"""M4: a stranger cannot turn the lockout against an account.

Failures are counted per client address (the CJIS 5 attempts / 10 minutes hold for
each one) under an account-wide ceiling; locked, unknown and wrong answer alike and
all verify a password hash; an administrator unlocks from the command line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from cli_runner import signed_in
from click.testing import CliRunner
from sqlalchemy import Engine, select

from controller.accounts import sessions, users
from controller.bridge import Bridge
from controller.cli import main
from controller.metrics import Metrics
from controller.settings import SecuritySettings, Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import login_throttle
from web import create_app

RULES = SecuritySettings()
PASSWORD = "Correct-Horse-Battery-9"
OWNER = "10.0.0.1"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small argon2 parameters: these tests make a few hundred attempts."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    monkeypatch.setattr(sessions, "_dummy_hash", lambda: users.hash_password("not-a-password"))


def _add(engine: Engine, name: str = "ann.admin", role: str = "administrator") -> None:
    users.add_user(engine, RULES, username=name, role=role, password=PASSWORD, actor="test")
    # Password only, so a right password is a whole login (the second factor's failures
    # count the same way: tests/security/test_logins.py).
    account_repo.set_user_flags(engine, int(user_repo.get(engine, name)["id"]),
                                totp_exempt=True)


def _answer(engine: Engine, name: str, password: str, source: str,
            when: datetime = NOW) -> str:
    """The message a login attempt gets (or "ok")."""
    try:
        sessions.check_password(engine, RULES, name, password, client_addr=source, now=when)
    except sessions.LoginRefused as refused:
        return str(refused)
    return "ok"


def test_locked_and_unknown_accounts_answer_alike(engine: Engine) -> None:
    _add(engine)
    real = [_answer(engine, "ann.admin", "wrong-password-1", "203.0.113.5")
            for _ in range(RULES.lockout_attempts + 2)]
    unknown = [_answer(engine, "no.such.admin", "wrong-password-1", "203.0.113.5")
               for _ in range(RULES.lockout_attempts + 2)]
    assert real == unknown
    assert real[0] == "wrong username or password"
    assert "account locked" in real[-1]
    # Even the right password is refused while locked, in the same words.
    assert _answer(engine, "ann.admin", PASSWORD, "203.0.113.5") == unknown[-1]


def test_the_hash_runs_on_every_path(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(engine)
    calls: list[str] = []
    verify: Callable[[str, str], bool] = users.verify_password

    def counting(stored: str, password: str) -> bool:
        calls.append(password)
        return verify(stored, password)

    monkeypatch.setattr(users, "verify_password", counting)
    attempts = [("ann.admin", "wrong-password-1"), ("no.such.admin", "x"),
                ("bad\x00name" * 20, "x")] * RULES.lockout_attempts
    attempts += [("ann.admin", PASSWORD), ("no.such.admin", "x"), ("bad\x00name" * 20, "x")]
    for name, password in attempts:  # the last three are all locked
        assert _answer(engine, name, password, "203.0.113.5") != "ok"
    assert len(calls) == len(attempts)


def test_cjis_lockout_holds_for_one_source(engine: Engine) -> None:
    _add(engine, "ann.lee", "officer")
    for _ in range(RULES.lockout_attempts):
        assert _answer(engine, "ann.lee", "wrong-password-1", OWNER) != "ok"
    late = NOW + timedelta(minutes=RULES.lockout_minutes) - timedelta(seconds=1)
    assert "account locked" in _answer(engine, "ann.lee", PASSWORD, OWNER, late)
    after = NOW + timedelta(minutes=RULES.lockout_minutes, seconds=1)
    assert _answer(engine, "ann.lee", PASSWORD, OWNER, after) == "ok"
    lockouts = audit_repo.search(engine, action="login.lockout")
    assert [row["data"]["scope"] for row in lockouts] == ["address"]


def test_strangers_do_not_lock_the_owner_out_below_the_ceiling(engine: Engine) -> None:
    """Nine addresses locked out (45 failures) leave the owner's address working;
    the tenth reaches the ceiling of 50 and locks the account for everyone."""
    _add(engine)
    strangers = [f"198.51.100.{i}" for i in range(RULES.lockout_ceiling
                                                  // RULES.lockout_attempts)]
    for source in strangers[:-1]:
        for _ in range(RULES.lockout_attempts):
            _answer(engine, "ann.admin", "wrong-password-1", source)
        assert "account locked" in _answer(engine, "ann.admin", PASSWORD, source)
    assert _answer(engine, "ann.admin", PASSWORD, OWNER) == "ok"
    # The owner's login restarted the account-wide count: the ceiling is a rate.
    assert user_repo.get(engine, "ann.admin")["failed_logins"] == 0
    # A locked address adds nothing more; ten fresh ones reach the ceiling.
    for source in strangers[:-1]:
        assert "account locked" in _answer(engine, "ann.admin", "wrong-password-1", source)
    assert user_repo.get(engine, "ann.admin")["failed_logins"] == 0
    for source in (s.replace("198.51.100.", "192.0.2.") for s in strangers):
        for _ in range(RULES.lockout_attempts):
            _answer(engine, "ann.admin", "wrong-password-1", source)
    assert "account locked" in _answer(engine, "ann.admin", PASSWORD, OWNER)
    assert user_repo.get(engine, "ann.admin")["locked_until"] is not None
    scopes = [row["data"]["scope"] for row in audit_repo.search(engine, action="login.lockout")]
    assert scopes.count("account") == 1
    after = NOW + timedelta(minutes=RULES.lockout_minutes, seconds=1)
    assert _answer(engine, "ann.admin", PASSWORD, OWNER, after) == "ok"


def test_unlock_from_the_command_line_is_audited(cli_env: dict[str, str]) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    try:
        upgrade(engine)
        _add(engine)
        now = datetime.now(UTC)
        for source in ("203.0.113.5", OWNER):
            for _ in range(RULES.lockout_attempts):
                _answer(engine, "ann.admin", "wrong-password-1", source, now)
        assert "account locked" in _answer(engine, "ann.admin", PASSWORD, OWNER, now)
        env = {k: v for k, v in signed_in(cli_env, "bob.admin").items()
               if k.startswith("SIGHTLINE_")}
        result = CliRunner().invoke(main, ["user", "unlock", "ann.admin"], env=env)
        assert result.exit_code == 0, result.output
        assert "ann.admin unlocked" in result.output
        for source in ("203.0.113.5", OWNER):
            assert _answer(engine, "ann.admin", PASSWORD, source, now) == "ok"
        row = audit_repo.search(engine, action="user.unlock")[0]
        # Another administrator, signed in on the command line (not an OS account).
        assert (row["actor"], row["data"]["username"]) == ("bob.admin", "ann.admin")
        assert row["client_addr"].startswith("cli:")
        missing = CliRunner().invoke(main, ["user", "unlock", "no.such.user"], env=env)
        assert missing.exit_code != 0
    finally:
        engine.dispose()


def test_a_guess_racing_a_lock_keeps_it_and_quiet_rows_fade(engine: Engine) -> None:
    until = NOW + timedelta(minutes=RULES.lockout_minutes)

    def fail(name: str, source: str, when: datetime) -> tuple[int, datetime | None]:
        return account_repo.throttle_failure(engine, name, source, when,
                                             limit=RULES.lockout_attempts, lock_until=until)

    results = [fail("ann.admin", "203.0.113.5", NOW) for _ in range(RULES.lockout_attempts)]
    assert results[-1] == (RULES.lockout_attempts, until)
    # A request that looked before the lock was set still counts, and the lock stays.
    fail("ann.admin", "203.0.113.5", NOW + timedelta(minutes=1))
    assert account_repo.throttle_lock(engine, "ann.admin", ("203.0.113.5",),
                                      NOW + timedelta(minutes=1)) == until
    # Once it has run out, the count starts again at one.
    assert fail("ann.admin", "203.0.113.5", until + timedelta(seconds=1)) == (1, None)

    fail("made.up.name", "198.51.100.7", NOW - timedelta(days=2))
    fail("another.name", "198.51.100.8", NOW)
    with engine.connect() as conn:
        names = set(conn.execute(select(login_throttle.c.name)).scalars())
    assert names == {"ann.admin", "another.name"}


def test_the_login_form_answers_a_locked_and_an_unknown_name_alike(
        engine: Engine, settings: Settings) -> None:
    _add(engine)
    loop = asyncio.new_event_loop()
    try:
        app = create_app(settings, Bridge(loop), engine=engine, metrics=Metrics(),
                         secret_key="test-secret")

        def flashes(name: str, password: str, source: str) -> list[tuple[int, str]]:
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token is not None
            seen = []
            for _ in range(RULES.lockout_attempts + 1):
                answer = client.post("/login", environ_base={"REMOTE_ADDR": source}, data={
                    "csrf_token": token.group(1), "username": name, "password": password,
                    "banner_ack": "yes"})
                flash = re.search(r'class="flash flash-error"[^>]*>([^<]*)<',
                                  answer.get_data(as_text=True))
                # The lock's end (HH:MM) may fall in the next minute for the second name.
                text = re.sub(r"\d\d:\d\d", "HH:MM", flash.group(1)) if flash else ""
                seen.append((answer.status_code, text))
                if answer.status_code == 302:  # signed in: nothing more to try
                    break
            return seen

        real = flashes("ann.admin", "wrong-password-1", "203.0.113.5")
        unknown = flashes("no.such.admin", "wrong-password-1", "203.0.113.5")
        # The owner, elsewhere, is not locked out by the stranger.
        owner = flashes("ann.admin", PASSWORD, OWNER)
    finally:
        loop.close()
    assert real == unknown
    assert {status for status, _ in real} == {401}
    assert "account locked" in real[-1][1] and "wrong username" in real[0][1]
    assert owner == [(302, "")]
