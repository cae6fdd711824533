"""Named accounts with CJIS passwords; every change audited (462.4, 462.5.1)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from controller import audit
from controller.accounts import users
from controller.errors import NotFound, ValidationError
from controller.settings import SecuritySettings
from controller.store import audit as audit_repo
from controller.store import users as repo

RULES = SecuritySettings()
GOOD = "Tr1cky!Gnu-7"


def test_add_user_hashes_with_argon2id_and_audits(engine: Engine) -> None:
    users.add_user(engine, RULES, username="officer.lee", role="officer", password=GOOD,
                   actor="cli:root")
    row = repo.get(engine, "officer.lee")
    assert row["password_hash"].startswith("$argon2id$")
    assert GOOD not in row["password_hash"]
    event = audit_repo.search(engine, action="user.add")[0]
    assert event["outcome"] == "allowed" and event["data"]["username"] == "officer.lee"
    assert audit.verify(engine).ok


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("officer.lee", "short1!", "shorter than 8"),
        ("officer.lee", "Password123!", "banned-password list"),
        ("officer.lee", "officer.lee-x9", "contains the username"),
        ("admin", GOOD, "generic account name"),
        ("Bad Name", GOOD, "username must be"),
    ],
)
def test_weak_or_generic_refused_with_the_rule(engine: Engine, username: str, password: str,
                                               reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        users.add_user(engine, RULES, username=username, role="officer", password=password,
                       actor="cli:root")
    assert repo.list_all(engine) == []
    denied = audit_repo.search(engine, action="user.add")[0]
    assert denied["outcome"] == "denied"


def test_long_passphrase_needs_no_other_rule(engine: Engine) -> None:
    users.add_user(engine, RULES, username="dispatch.ortiz", role="dispatcher",
                   password="password password pass", actor="t")
    assert repo.get(engine, "dispatch.ortiz")["role"] == "dispatcher"


def test_unknown_role_and_duplicate_refused(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="role must be one of"):
        users.add_user(engine, RULES, username="x.y", role="sheriff", password=GOOD, actor="t")
    users.add_user(engine, RULES, username="x.y", role="analyst", password=GOOD, actor="t")
    with pytest.raises(ValidationError, match="already exists"):
        users.add_user(engine, RULES, username="x.y", role="analyst", password=GOOD, actor="t")
    assert len(repo.list_all(engine)) == 1


def test_disable_is_audited_and_unknown_user_named(engine: Engine) -> None:
    users.add_user(engine, RULES, username="vendor.acme", role="vendor", password=GOOD, actor="t")
    users.disable_user(engine, username="vendor.acme", actor="chief")
    assert repo.get(engine, "vendor.acme")["disabled"] is True
    with pytest.raises(NotFound, match="ghost"):
        users.disable_user(engine, username="ghost", actor="chief")
    outcomes = [e["outcome"] for e in audit_repo.search(engine, action="user.disable")]
    assert outcomes == ["denied", "allowed"]


def test_last_passwords_cannot_be_reused(engine: Engine) -> None:
    users.add_user(engine, RULES, username="analyst.kim", role="analyst", password=GOOD, actor="t")
    users.reset_password(engine, RULES, username="analyst.kim", password="Another!Pw-42", actor="t")
    with pytest.raises(ValidationError, match="last 10"):
        users.reset_password(engine, RULES, username="analyst.kim", password=GOOD, actor="t")
    assert users.list_users(engine)[0].get("password_hash") is None
