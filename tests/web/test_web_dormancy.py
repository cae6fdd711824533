"""Issue 14 point 7(g): accounts unused for 90 days are suspended, and every account is
reconfirmed each quarter by an administrator (462.4; State Auditor 2019-118)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from controller.accounts import dormancy
from controller.jobs import runner
from controller.jobs import schedule as _registers_the_jobs  # noqa: F401
from controller.settings import Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.schema import users


def signed_in_at(engine: Engine, username: str, when: datetime) -> None:
    user_id = int(user_repo.get(engine, username)["id"])
    account_repo.start_session(engine, uuid.uuid4().hex, user_id, when, "10.1.1.1")


def suspensions(engine: Engine) -> list[tuple[str, str, str]]:
    return [(r["data"]["username"], r["outcome"], r["data"]["reason"]) for r in
            reversed(audit_repo.search(engine, action="account.suspend"))]


def test_unused_accounts_are_suspended_refused_at_login_and_reinstated(
        auth: Any, engine: Engine, settings: Settings) -> None:
    for name, role in (("ann.lee", "officer"), ("bob.day", "analyst"),
                       ("chief", "administrator"), ("deputy", "administrator")):
        auth.make_user(name, role)
    now = datetime.now(UTC)
    signed_in_at(engine, "ann.lee", now + timedelta(days=50))
    assert dormancy.suspend_due(engine, settings.security, now=now + timedelta(days=60)) == []
    later = now + timedelta(days=100)
    # Keep the reconfirmation rule out of this test: everyone was reconfirmed lately.
    for name in ("ann.lee", "bob.day", "chief", "deputy"):
        from controller.store import account_status

        account_status.confirm(engine, int(user_repo.get(engine, name)["id"]), actor="t",
                               now=later - timedelta(days=1))
    suspended = dormancy.suspend_due(engine, settings.security, now=later)
    # bob never signed in, chief neither; deputy is kept: the last administrator left.
    assert suspended == ["bob.day", "chief"]
    assert [(u, o) for u, o, _ in suspensions(engine)] == [
        ("bob.day", "allowed"), ("chief", "allowed"), ("deputy", "denied")]
    assert "unused for 90 days" in suspensions(engine)[0][2]
    refused = auth.login("bob.day")
    page = refused.get_data(as_text=True)
    assert "suspended (unused for 90 days" in page and "reinstate" in page
    assert audit_repo.search(engine, action="login.failed")[0]["data"]["reason"] == "suspended"
    auth.login("deputy")
    listing = auth.client.get("/admin/reconfirm").get_data(as_text=True)
    assert 'id="account-bob.day"' in listing and "suspended" in listing
    no_reason = auth.post("/admin/reinstate", {"username": "bob.day", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_data(as_text=True)
    assert auth.post("/admin/reinstate", {"username": "bob.day",
                                          "reason": "back from leave"}).status_code == 303
    reinstated = audit_repo.search(engine, action="account.reinstate")[0]
    assert (reinstated["actor"], reinstated["data"]["username"]) == ("deputy", "bob.day")
    auth.logout()
    assert auth.login("bob.day").status_code == 302
    # A suspension ends a live session at its next request.
    auth.client.get("/")
    dormancy.suspend_due(engine, settings.security, now=later + timedelta(days=200))
    assert auth.client.get("/search").status_code in (302, 303)


async def test_accounts_not_reconfirmed_last_quarter_are_suspended(
        auth: Any, engine: Engine, settings: Settings) -> None:
    for name, role in (("ann.lee", "officer"), ("bob.day", "analyst"),
                       ("chief", "administrator")):
        auth.make_user(name, role)
    now = datetime.now(UTC)
    # The accounts were made before the last quarter began.
    made = datetime.combine(dormancy.previous_quarter_start(now.date()),
                            datetime.min.time(), UTC) - timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(update(users).values(created_at=made))
    for name in ("ann.lee", "bob.day", "chief"):
        signed_in_at(engine, name, now - timedelta(days=2))  # all in use
    auth.login("chief")
    home = auth.client.get("/").get_data(as_text=True)
    assert 'id="accounts-due"' in home and "3 accounts to reconfirm by" in home
    page = auth.client.get("/admin/reconfirm").get_data(as_text=True)
    for name in ("ann.lee", "bob.day", "chief"):
        row = page.split(f'id="account-{name}"', 1)[1].split("</tr>", 1)[0]
        assert ">due<" in row, name
    assert auth.post("/admin/reconfirm", {"username": "ann.lee"}).status_code == 303
    assert auth.post("/admin/reconfirm", {"username": "nobody"}).status_code == 400
    page = auth.client.get("/admin/reconfirm").get_data(as_text=True)
    ann = page.split('id="account-ann.lee"', 1)[1].split("</tr>", 1)[0]
    assert ">confirmed<" in ann and "by chief" in ann
    confirmed = audit_repo.search(engine, action="account.reconfirm")[0]
    assert (confirmed["actor"], confirmed["data"]["username"]) == ("chief", "ann.lee")
    auth.logout()
    # The daily job: bob was not reconfirmed during the last quarter; chief is the last
    # administrator and stays; ann was reconfirmed.
    runner.set_context(runner.JobContext(engine, settings, lambda _w: None))
    try:
        await runner.run_job("accounts_review", "accounts:review")
    finally:
        runner.set_context(None)
    assert [(u, o) for u, o, _ in suspensions(engine)] == [
        ("bob.day", "allowed"), ("chief", "denied")]
    assert "not reconfirmed" in suspensions(engine)[0][2]
    refused = auth.login("bob.day").get_data(as_text=True)
    assert "suspended (not reconfirmed" in refused
    assert auth.login("ann.lee").status_code == 302


def test_accounts_existing_at_the_upgrade_count_as_reconfirmed(db_url: str,
                                                               settings: Settings) -> None:
    from controller.accounts import users as account_users
    from controller.store import account_status
    from controller.store.engine import make_engine
    from controller.store.migrate import upgrade

    engine = make_engine(db_url, pool_size=2)
    try:
        upgrade(engine, "0005")
        account_users.add_user(engine, settings.security, username="old.hand",
                               role="officer", password="Correct-Horse-Battery-9",
                               actor="test")
        upgrade(engine)
        user_id = int(user_repo.get(engine, "old.hand")["id"])
        row = account_status.get(engine, user_id)
        assert row is not None and row["confirmed_by"] == "migration 0011"
        assert row["confirmed_at"] is not None and row["suspended_at"] is None
    finally:
        engine.dispose()
