"""API clients (issue 17, point 3; 462.3.1, 462.4, 462.4.1, 462.5): created by an administrator
with a role that is never administrator, tokens stored hashed, expiring, revocable, last use
recorded, refused while the owner may not answer for them, and named in the access log.

Time is driven by the ``now`` the use cases take, never by sleeping.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from controller.accounts import Caller, clients, purpose, users
from controller.accounts.clients import ClientForm, ClientRefused
from controller.errors import AccessDenied, NotFound, ValidationError
from controller.settings import Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import users as user_repo
from controller.store.schema import api_clients

T0 = datetime.now(UTC).replace(microsecond=0)
LAST_DAY = (T0 + timedelta(days=30)).date()


def person(engine: Engine, username: str, role: str = "administrator", *,
           trained: bool = True) -> Caller:
    """A stored user (trained unless told) as a signed-in caller."""
    user_id = user_repo.create(engine, username=username, role=role, password_hash="x",
                               full_name="", created_by="test", now=T0)
    if trained:
        users.record_training(engine, username=username, course="ALPR 462",
                              completed_on=date.today() - timedelta(days=1),
                              trainer="Sgt. Trainer", actor="test")
    return Caller(username=username, role=role, user_id=user_id, client_addr="192.0.2.7",
                  gate_ok=trained)


def _form(name: str = "cad-bridge", role: str = "dispatcher",
          expires: str = LAST_DAY.isoformat()) -> ClientForm:
    return ClientForm(name=name, role=role, expires=expires)


def test_token_shown_once_stored_hashed_and_resolves_to_the_role(
        engine: Engine, settings: Settings) -> None:
    admin = person(engine, "ada.admin")
    token, row = clients.add_client(engine, admin, _form(), now=T0)
    assert token.startswith("slc_") and len(token) > 40
    assert (row.name, row.role, row.owner) == ("cad-bridge", "dispatcher", "ada.admin")
    # Valid through its last day, UTC.
    assert row.expires_at == datetime.combine(LAST_DAY + timedelta(days=1),
                                              datetime.min.time(), UTC)
    with engine.connect() as conn:
        stored = conn.execute(select(api_clients)).mappings().one()
    assert token not in str(dict(stored)) and stored["token_hash"] != token
    caller = clients.resolve(engine, settings.security, token, client_addr="198.51.100.4",
                             now=T0 + timedelta(minutes=5))
    assert (caller.username, caller.role, caller.owner, caller.client_name, caller.gate_ok) == (
        "client:cad-bridge", "dispatcher", "ada.admin", "cad-bridge", True)
    (listed,) = clients.clients(engine, admin)
    assert listed.last_used_at == T0 + timedelta(minutes=5)
    assert listed.last_used_addr == "198.51.100.4"
    (entry,) = audit_repo.search(engine, action="client.add")
    assert entry["actor"] == "ada.admin" and entry["data"]["role"] == "dispatcher"
    assert token not in str(entry)


@pytest.mark.parametrize(("form", "field"), [
    (_form(role="administrator"), "role"),
    (_form(role="superuser"), "role"),
    (_form(name="Bad Name"), "name"),
    (_form(name="x"), "name"),
    (_form(expires="next week"), "expires"),
    (_form(expires=(T0 - timedelta(days=1)).date().isoformat()), "expires"),
    (_form(expires=(T0 + timedelta(days=clients.MAX_DAYS + 1)).date().isoformat()), "expires"),
])
def test_bad_fields_are_refused_by_name(engine: Engine, form: ClientForm, field: str) -> None:
    admin = person(engine, "ada.admin")
    with pytest.raises(ValidationError) as caught:
        clients.add_client(engine, admin, form, now=T0)
    assert caught.value.field == field
    assert clients.clients(engine, admin) == []
    (entry,) = audit_repo.search(engine, action="client.add")
    assert entry["outcome"] == "denied" and entry["data"]["field"] == field


def test_only_administrators_manage_clients(engine: Engine) -> None:
    officer = person(engine, "olga.officer", "officer")
    with pytest.raises(AccessDenied):
        clients.add_client(engine, officer, _form(), now=T0)
    with pytest.raises(AccessDenied):
        clients.clients(engine, officer)
    with pytest.raises(AccessDenied):
        clients.revoke_client(engine, officer, "cad-bridge")
    assert [e["outcome"] for e in audit_repo.search(engine, actor="olga.officer")] == [
        "denied"] * 3


def test_names_are_unique(engine: Engine) -> None:
    admin = person(engine, "ada.admin")
    clients.add_client(engine, admin, _form(), now=T0)
    with pytest.raises(Exception, match="already exists"):
        clients.add_client(engine, admin, _form(role="analyst"), now=T0)


def test_expired_and_revoked_tokens_are_refused_and_audited(
        engine: Engine, settings: Settings) -> None:
    admin = person(engine, "ada.admin")
    token, row = clients.add_client(engine, admin, _form(), now=T0)
    with pytest.raises(ClientRefused, match="expired"):
        clients.resolve(engine, settings.security, token, client_addr=None,
                        now=row.expires_at)
    clients.resolve(engine, settings.security, token, client_addr=None,
                    now=row.expires_at - timedelta(seconds=1))
    revoked = clients.revoke_client(engine, admin, "cad-bridge", now=T0)
    assert revoked.revoked_by == "ada.admin"
    with pytest.raises(ClientRefused, match="revoked"):
        clients.resolve(engine, settings.security, token, client_addr=None, now=T0)
    with pytest.raises(ClientRefused, match="not known"):
        clients.resolve(engine, settings.security, token[:-2] + "xx", client_addr=None, now=T0)
    with pytest.raises(NotFound):
        clients.revoke_client(engine, admin, "nosuchclient")
    denied = audit_repo.search(engine, actor="client:cad-bridge", action="access.denied")
    assert len(denied) == 2
    assert all(e["data"]["owner"] == "ada.admin" for e in denied)


def test_owner_answers_for_the_client(engine: Engine, settings: Settings) -> None:
    """Training gate through the owner (462.4.1); a disabled or demoted owner stops it."""
    admin = person(engine, "ada.admin", trained=False)
    # Created while the administrator counted as trained; their stored record says otherwise.
    token, _row = clients.add_client(engine, replace(admin, gate_ok=True), _form(), now=T0)
    untrained = clients.resolve(engine, settings.security, token, client_addr=None)
    assert untrained.gate_ok is False
    with pytest.raises(AccessDenied, match="training"):
        purpose.state(engine, settings, untrained, purpose.PurposeForm(
            settings.search.purposes[0], "26-1", "yes"))
    owner_id = int(user_repo.get(engine, "ada.admin")["id"])
    account_repo.set_user_flags(engine, owner_id, role="officer")
    with pytest.raises(ClientRefused, match="no longer an active administrator"):
        clients.resolve(engine, settings.security, token, client_addr=None)
    account_repo.set_user_flags(engine, owner_id, role="administrator")
    user_repo.set_disabled(engine, "ada.admin", True)
    with pytest.raises(ClientRefused, match="no longer an active administrator"):
        clients.resolve(engine, settings.security, token, client_addr=None)


def test_client_windows_are_its_own_and_entries_name_client_and_owner(
        engine: Engine, settings: Settings) -> None:
    admin = person(engine, "ada.admin")
    token, _row = clients.add_client(engine, admin, _form(role="officer"), now=T0)
    client = clients.resolve(engine, settings.security, token, client_addr="198.51.100.4")
    work = purpose.PurposeForm(settings.search.purposes[0], "26-000777", "yes")
    purpose.state(engine, settings, client, work)
    # The owner's own window is untouched by the client's statement, and the other way.
    assert purpose.current(engine, admin) is None
    own = purpose.state(engine, settings, admin, purpose.PurposeForm(
        settings.search.purposes[0], "26-000001", "yes"))
    mine = purpose.current(engine, client)
    assert mine is not None and mine.case_number == "26-000777" and mine.id != own.id
    (entry,) = audit_repo.search(engine, actor="client:cad-bridge", action="purpose.state")
    assert entry["data"]["client"] == "cad-bridge" and entry["data"]["owner"] == "ada.admin"
    assert entry["client_addr"] == "198.51.100.4"
