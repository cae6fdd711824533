"""Purpose windows (462.5): a purpose and case number stated once cover a user's views
of plate data for the configured time, are named in every entry, and are the user's own.

Time is driven by the ``now`` the use cases take (an injected clock), never by sleeping.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from controller.accounts import Caller, purpose
from controller.errors import AccessDenied, ConfigError, PurposeRequired, ValidationError
from controller.search import views
from controller.settings import SearchSettings, Settings
from controller.settings.loader import load_settings
from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store import users as user_repo

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WORK = purpose.PurposeForm("Missing person", "26-000777", "yes")


def person(engine: Engine, username: str, role: str = "officer") -> Caller:
    """A stored, trained user as a signed-in caller."""
    user_id = user_repo.create(engine, username=username, role=role, password_hash="x",
                               full_name="", created_by="test", now=T0)
    return Caller(username=username, role=role, user_id=user_id, client_addr="192.0.2.7",
                  gate_ok=True)


def entries(engine: Engine, action: str) -> list[dict[str, Any]]:
    """The audit entries with this action, oldest first."""
    return [dict(r) for r in reversed(audit_repo.search(engine, action=action))]


@pytest.fixture
def minutes_15(settings: Settings) -> Settings:
    """Settings whose purpose window lasts 15 minutes."""
    return settings.model_copy(update={"search": SearchSettings(purpose_window_minutes=15)})


@pytest.fixture
def read_uuid(engine: Engine) -> str:
    site = site_repo.create_site(engine, code="elm", name="Elm St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    read = str(uuid.uuid4())
    read_repo.insert_batch(engine, [{
        "uuid": read, "plate": "7ABC123", "raw_text": "7ABC123", "confidence": 0.97,
        "char_confidences": [0.97] * 7, "camera_id": camera, "site_id": site,
        "seen_at": T0, "direction": "NB", "created_at": T0}])
    return read


def test_window_lasts_the_configured_time_then_expires(engine: Engine,
                                                       minutes_15: Settings) -> None:
    ann = person(engine, "ann.lee")
    window = purpose.state(engine, minutes_15, ann, WORK, now=T0)
    assert window.expires_at == T0 + timedelta(minutes=15)
    still = purpose.require(engine, ann, now=T0 + timedelta(minutes=14, seconds=59))
    assert (still.id, still.purpose, still.case_number) == (window.id, "Missing person",
                                                            "26-000777")
    assert purpose.current(engine, ann, now=T0 + timedelta(minutes=15)) is None
    with pytest.raises(PurposeRequired, match="purpose and case number"):
        purpose.require(engine, ann, now=T0 + timedelta(minutes=15))
    # Nor does a window cover views from before it was stated.
    assert purpose.current(engine, ann, now=T0 - timedelta(seconds=1)) is None


def test_default_is_thirty_minutes_and_the_setting_is_checked(tmp_path: Path) -> None:
    assert SearchSettings().purpose_window_minutes == 30
    for bad, message in (("0", "greater than or equal to 1"), ("481", "less than or equal"),
                         ("half an hour", "valid integer")):
        path = tmp_path / "sightline.yaml"
        path.write_text(f"search:\n  purpose_window_minutes: {bad}\n")
        with pytest.raises(ConfigError) as info:
            load_settings(path, env={})
        assert "search.purpose_window_minutes" in str(info.value)
        assert message in str(info.value)


def test_stating_replacing_and_ending_are_audited(engine: Engine, minutes_15: Settings) -> None:
    ann = person(engine, "ann.lee")
    first = purpose.state(engine, minutes_15, ann, WORK, now=T0)
    second = purpose.state(engine, minutes_15, ann, purpose.PurposeForm(
        "Stolen vehicle investigation", "26-000778", "yes"), now=T0 + timedelta(minutes=5))
    assert purpose.current(engine, ann, now=T0 + timedelta(minutes=6)).id == second.id
    stated = entries(engine, "purpose.state")
    assert [(e["purpose"], e["case_number"], e["data"]["window"], e["data"]["replaced"])
            for e in stated] == [("Missing person", "26-000777", first.id, []),
                                 ("Stolen vehicle investigation", "26-000778", second.id,
                                  [first.id])]
    assert stated[1]["data"]["minutes"] == 15 and stated[1]["actor"] == "ann.lee"
    assert purpose.end(engine, ann, now=T0 + timedelta(minutes=7)) is True
    assert purpose.current(engine, ann, now=T0 + timedelta(minutes=8)) is None
    ended = entries(engine, "purpose.end")
    assert [(e["purpose"], e["case_number"], e["data"]["window"]) for e in ended] == [
        ("Stolen vehicle investigation", "26-000778", second.id)]
    assert purpose.end(engine, ann, now=T0 + timedelta(minutes=9)) is False


@pytest.mark.parametrize(("change", "field"), [
    ({"purpose": "curiosity"}, "purpose"),
    ({"case_number": ""}, "case_number"),
    ({"case_number": "<script>"}, "case_number"),
    ({"attest": ""}, "attest"),
])
def test_a_bad_statement_names_the_field_and_opens_nothing(engine: Engine, settings: Settings,
                                                           change: dict[str, str],
                                                           field: str) -> None:
    ann = person(engine, "ann.lee")
    form = purpose.PurposeForm(**{**WORK.__dict__, **change})
    with pytest.raises(ValidationError) as refused:
        purpose.state(engine, settings, ann, form)
    assert refused.value.field == field
    assert purpose.current(engine, ann) is None
    [entry] = entries(engine, "purpose.state")
    assert entry["outcome"] == "denied" and entry["data"]["field"] == field


def test_vendors_state_no_purpose(engine: Engine, settings: Settings) -> None:
    with pytest.raises(AccessDenied, match="vendor"):
        purpose.state(engine, settings, person(engine, "val.vendor", "vendor"), WORK)
    assert entries(engine, "purpose.state")[0]["outcome"] == "denied"


def test_a_user_cannot_use_another_users_window(engine: Engine, settings: Settings,
                                                read_uuid: str) -> None:
    ann, bob = person(engine, "ann.lee"), person(engine, "bob.ray")
    purpose.state(engine, settings, ann, WORK)
    assert purpose.current(engine, bob) is None
    with pytest.raises(PurposeRequired):
        views.view_read(engine, bob, read_uuid)
    # A front end that knows bob only by name (no user id) still finds only bob's windows.
    by_name = Caller(username="bob.ray", role="officer", gate_ok=True)
    with pytest.raises(PurposeRequired):
        views.view_read(engine, by_name, read_uuid)
    # Bob ending "his" window ends nothing of ann's.
    assert purpose.end(engine, bob) is False
    assert purpose.current(engine, ann) is not None
    purpose.state(engine, settings, bob, purpose.PurposeForm("Homeland security", "HS-1", "yes"))
    views.view_read(engine, bob, read_uuid)
    views.view_read(engine, ann, read_uuid)
    assert [(e["actor"], e["purpose"], e["case_number"])
            for e in entries(engine, "read.view")] == [
        ("bob.ray", "Homeland security", "HS-1"), ("ann.lee", "Missing person", "26-000777")]


def test_dispatch_has_a_purpose_of_its_own(settings: Settings) -> None:
    # 462.7(7): a hit is verified through CLETS before enforcement; that is dispatch's work.
    assert any("CLETS" in p for p in settings.search.purposes)
    assert any("462.6" in p for p in settings.search.purposes)
