"""Sign-in (462.5.1, 462.5.2): banner, CSRF, TOTP, lockout, idle lock, one session, gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import Engine, update
from tests_web_helpers import Auth, actions

from controller import audit
from controller.accounts import sessions, users
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.schema import login_throttle, user_sessions
from controller.store.schema import users as users_table

PW = "Correct-Horse-Battery-9"


def test_login_page_shows_banner_and_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Authorized use only" in page and "monitored and recorded" in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page and "style=" not in page


def test_anonymous_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/admin/users")


def test_post_without_csrf_refused_and_audited(client, engine: Engine, auth) -> None:
    auth.make_user("ann.lee", "officer")
    response = client.post("/login", data={"username": "ann.lee", "password": PW,
                                           "banner_ack": "yes"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert actions(engine, "access.csrf") == ["denied"]
    assert actions(engine, "login") == []


def test_banner_must_be_acknowledged(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    response = auth.post("/login", {"username": "ann.lee", "password": PW})
    assert response.status_code == 400
    assert "system-use notice" in response.get_data(as_text=True)
    assert actions(engine, "login.password") == []


def test_login_with_totp(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    first = auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes"})
    assert first.status_code == 302 and first.location.endswith("/login/code")
    # The password alone opens nothing.
    assert client.get("/").status_code == 302
    bad = auth.post("/login/code", {"code": "000000"})
    assert bad.status_code == 401
    code = auth.code("ann.lee")
    ok = auth.post("/login/code", {"code": code})
    assert ok.status_code == 302 and ok.location == "/"
    assert client.get("/").status_code == 200
    # The same code never works twice.
    auth.logout()
    auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes"})
    assert auth.post("/login/code", {"code": code}).status_code == 401
    assert actions(engine, "login.totp_failed") == ["denied", "denied"]
    assert actions(engine, "login") == ["allowed"]
    assert audit.verify(engine).ok


def test_first_login_enrols_totp(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer", enrolled=False)
    response = auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes"})
    assert response.location.endswith("/login/enrol")
    page = client.get("/login/enrol").get_data(as_text=True)
    secret = sessions.totp_secret(engine, dict(user_repo.get(engine, "ann.lee")))  # sealed
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    assert "otpauth://totp/Sightline:ann.lee" in page
    done = auth.post("/login/enrol", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert user_repo.get(engine, "ann.lee")["totp_enrolled"] is True
    assert actions(engine, "login.totp_enrolled") == ["allowed"]


def test_lockout_after_five_failures(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    for _ in range(5):
        r = auth.post("/login", {"username": "ann.lee", "password": "wrong-pass-1",
                                 "banner_ack": "yes"})
        assert r.status_code == 401
    locked = auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes"})
    assert locked.status_code == 401 and "account locked" in locked.get_data(as_text=True)
    assert actions(engine, "login.lockout") == ["denied"]
    # Locked for the address the guesses came from (the test client's).
    until = account_repo.throttle_lock(engine, "ann.lee", ("127.0.0.1",), datetime.now(UTC))
    assert until is not None
    assert timedelta(minutes=9) < until - datetime.now(UTC) <= timedelta(minutes=10)
    # Ten minutes later the right password works again.
    with engine.begin() as conn:
        conn.execute(update(login_throttle).values(locked_until=datetime.now(UTC)
                                                   - timedelta(seconds=1)))
    assert auth.login("ann.lee").status_code == 302
    assert account_repo.throttle_lock(engine, "ann.lee", ("127.0.0.1", "*"),
                                      datetime.now(UTC) - timedelta(hours=1)) is None


def test_unknown_user_refused_and_audited(auth, engine: Engine) -> None:
    r = auth.post("/login", {"username": "nobody.here", "password": PW, "banner_ack": "yes"})
    assert r.status_code == 401 and "wrong username or password" in r.get_data(as_text=True)
    assert audit_repo.search(engine, action="login.failed")[0]["data"]["reason"] == "unknown user"


def test_idle_session_is_locked(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert client.get("/").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(user_sessions).values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert actions(engine, "session.locked") == ["allowed"]
    assert "idle" in client.get("/login").get_data(as_text=True)


def test_new_login_ends_the_old_session(app, auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert auth.client.get("/").status_code == 200
    other = app.test_client()
    second = Auth(app, other, engine)
    second.secrets = auth.secrets
    second.login("ann.lee")
    assert other.get("/").status_code == 200
    assert auth.client.get("/").status_code == 302
    assert audit_repo.search(engine, action="login")[0]["data"]["sessions_ended"] == 1
    assert actions(engine, "session.replaced") == ["allowed"]


def test_untrained_user_sees_only_what_is_missing(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer", trained=False)
    response = auth.login("ann.lee")
    assert response.location == "/access"
    gate = client.get("/access").get_data(as_text=True)
    assert "No ALPR training is recorded" in gate
    refused = client.get("/")
    assert refused.status_code == 403
    assert "No ALPR training is recorded" in refused.get_data(as_text=True)
    denied = audit_repo.search(engine, action="access.denied")[0]
    assert denied["outcome"] == "denied" and "training" in denied["data"]["reason"]


def test_expired_training_refused(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer", trained=False)
    users.record_training(engine, username="ann.lee", course="ALPR",
                          completed_on=date.today() - timedelta(days=400), trainer="T",
                          actor="test")
    auth.login("ann.lee")
    page = client.get("/")
    assert page.status_code == 403 and "no longer current" in page.get_data(as_text=True)


def test_policy_must_be_acknowledged(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    policy_id = users.publish_policy(engine, version="2026.1", title="ALPR policy",
                                     adopted_on=date(2026, 1, 5), text="462.1 ...",
                                     actor="chief")
    auth.login("ann.lee")
    assert client.get("/").status_code == 403
    assert "462.1" in client.get("/policy").get_data(as_text=True)
    assert auth.post("/policy", {"policy_id": str(policy_id)}).status_code == 302
    assert client.get("/").status_code == 200
    assert actions(engine, "policy.acknowledge") == ["allowed"]


def test_change_password_rules(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    wrong = auth.post("/account/password", {"current_password": "nope-nope-1",
                                            "new_password": "Fresh-Lantern-42",
                                            "confirm_password": "Fresh-Lantern-42"})
    assert wrong.status_code == 400 and "current_password" in wrong.get_data(as_text=True)
    reuse = auth.post("/account/password", {"current_password": PW, "new_password": PW,
                                            "confirm_password": PW})
    assert reuse.status_code == 400 and "last 10" in reuse.get_data(as_text=True)
    banned = auth.post("/account/password", {"current_password": PW,
                                             "new_password": "password1",
                                             "confirm_password": "password1"})
    assert "banned" in banned.get_data(as_text=True)
    ok = auth.post("/account/password", {"current_password": PW,
                                         "new_password": "Fresh-Lantern-42",
                                         "confirm_password": "Fresh-Lantern-42"})
    assert ok.status_code == 302
    assert users.verify_password(user_repo.get(engine, "ann.lee")["password_hash"],
                                 "Fresh-Lantern-42")


def test_expired_password_must_be_changed(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    with engine.begin() as conn:
        conn.execute(update(users_table).values(
            password_changed_at=datetime.now(UTC) - timedelta(days=366)))
    auth.login("ann.lee")
    refused = client.get("/")
    assert refused.status_code == 403 and "older than 365 days" in refused.get_data(as_text=True)


def test_report_compromised(app, auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.make_user("chief.ray", "administrator")
    auth.login("ann.lee")
    response = auth.post("/account/compromised")
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").status_code == 302  # session ended
    assert user_repo.get(engine, "ann.lee")["must_change_password"] is True
    assert actions(engine, "account.compromised") == ["allowed"]
    auth.login("chief.ray")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Passwords reported compromised" in page and "ann.lee" in page
    # The reporter must now pick a new password before anything else.
    auth.logout()
    auth.login("ann.lee")
    assert "choose a new password" in client.get("/").get_data(as_text=True)


def test_logout_ends_session(auth, client, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302
    assert actions(engine, "logout") == ["allowed"]


def test_next_parameter_only_local(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "officer")
    auth.client.get("/login?next=https://evil.example/x")
    r = auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes",
                             "next": "//evil.example/"})
    assert r.status_code == 302
    done = auth.post("/login/code", {"code": auth.code("ann.lee")})
    assert done.location == "/"
