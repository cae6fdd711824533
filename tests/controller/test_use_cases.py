"""The controller's use cases enforce the policy themselves, whatever front end calls them.

Each test calls a use case directly, as the JSON API or the CLI would, without
the web's route guard in front: a role the policy excludes is refused and the
refusal audited, a missing purpose or case number is a ValidationError naming
the field (and audited), an allowed call is audited with what was queried. The
expected roles are written from the policy (462.3.1, 462.4), not read from
``roles.PERMISSIONS``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from controller.accounts import Caller, admin, purpose
from controller.alerts import hits, hotlists
from controller.bridge import ignore_change
from controller.compliance import admin as compliance_admin
from controller.errors import AccessDenied, ValidationError
from controller.search import queries, views
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store import users as user_repo

SEEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEARCH = queries.SearchForm(mode="exact", plate="7abc 123",
                            purpose="Stolen vehicle investigation", case_number="26-004512",
                            attest="yes")


def who(role: str, *, trained: bool = True, name: str | None = None) -> Caller:
    """A caller as a front end would build it after signing them in."""
    return Caller(username=name or f"{role}.one", role=role, user_id=1,
                  client_addr="192.0.2.7", gate_ok=trained)


def person(engine: Engine, role: str, *, name: str | None = None) -> Caller:
    """A stored user as a signed-in caller (a purpose window belongs to a real user)."""
    username = name or f"{role}.one"
    user_id = user_repo.create(engine, username=username, role=role, password_hash="x",
                               full_name="", created_by="test", now=SEEN)
    return Caller(username=username, role=role, user_id=user_id, client_addr="192.0.2.7",
                  gate_ok=True)


def at_work(engine: Engine, settings: Settings, caller: Caller,
            stated: str = "Stolen vehicle investigation", case: str = "26-004512") -> Caller:
    """The caller with a purpose window open (``purpose.state``)."""
    purpose.state(engine, settings, caller, purpose.PurposeForm(stated, case, "yes"))
    return caller


def last(engine: Engine, action: str) -> dict[str, Any]:
    """The newest audit entry with this action."""
    rows = audit_repo.search(engine, action=action, limit=1)
    assert rows, f"no audit entry {action}"
    return dict(rows[0])


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    """One camera with two reads of 7ABC123 and a hit on the first."""
    site = site_repo.create_site(engine, code="main-st", name="Main St", latitude=34.05,
                                 longitude=-118.25)
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    reads = []
    for minutes in (0, 5):
        read_uuid = str(uuid.uuid4())
        read_repo.insert_batch(engine, [{
            "uuid": read_uuid, "plate": "7ABC123", "raw_text": "7ABC123", "confidence": 0.97,
            "char_confidences": [0.97] * 7, "camera_id": camera, "site_id": site,
            "seen_at": SEEN + timedelta(minutes=minutes), "direction": "NB",
            "created_at": SEEN}])
        reads.append(read_uuid)
    hit_uuid = str(uuid.uuid4())
    hit_repo.write_reads(engine, [{
        "read": {"uuid": str(uuid.uuid4()), "plate": "8XYZ999", "raw_text": "8XYZ999",
                 "confidence": 0.95, "char_confidences": [0.95] * 7, "camera_id": camera,
                 "site_id": site, "seen_at": SEEN, "direction": "NB", "created_at": SEEN},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": "8XYZ999",
                                              "match": "exact", "category": "stolen_vehicle",
                                              "reason": "Stolen 2026-10-30"}}],
    }], sinks=[], now=SEEN)
    return {"reads": reads, "hit": hit_uuid}


# --- search (462.5, 462.7, 462.7.1(2)(3)) -------------------------------------------------

@pytest.mark.parametrize("role", ["vendor", "dispatcher"])
def test_search_refused_to_roles_without_it_and_audited(engine: Engine, settings: Settings,
                                                         world: dict[str, Any],
                                                         role: str) -> None:
    with pytest.raises(AccessDenied, match=role):
        queries.search_reads(engine, settings, who(role), SEARCH)
    entry = last(engine, "search.exact")
    assert (entry["outcome"], entry["actor"], entry["plate"]) == ("denied", f"{role}.one",
                                                                  "7ABC123")
    assert entry["data"]["permission"] == "search"


def test_search_refused_without_current_training(engine: Engine, settings: Settings,
                                                 world: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied, match="training"):
        queries.search_reads(engine, settings, who("officer", trained=False), SEARCH)
    assert last(engine, "search.exact")["outcome"] == "denied"


@pytest.mark.parametrize(("change", "field"), [
    ({"purpose": ""}, "purpose"),
    ({"case_number": ""}, "case_number"),
    ({"attest": ""}, "attest"),
    ({"plate": "7AB#123"}, "plate"),
])
def test_search_without_justification_names_the_field(engine: Engine, settings: Settings,
                                                       world: dict[str, Any],
                                                       change: dict[str, str],
                                                       field: str) -> None:
    form = queries.SearchForm(**{**SEARCH.__dict__, **change})
    with pytest.raises(ValidationError) as refused:
        queries.search_reads(engine, settings, who("analyst"), form)
    assert refused.value.field == field
    entry = last(engine, "search.exact")
    assert entry["outcome"] == "denied" and entry["data"]["field"] == field


def test_allowed_search_is_audited_with_plate_purpose_and_case(engine: Engine,
                                                               settings: Settings,
                                                               world: dict[str, Any]) -> None:
    result = queries.search_reads(engine, settings, person(engine, "officer"), SEARCH)
    assert sorted(r["uuid"] for r in result.reads) == sorted(world["reads"])
    entry = last(engine, "search.exact")
    assert entry["id"] == result.search_id and entry["outcome"] == "allowed"
    assert (entry["plate"], entry["purpose"], entry["case_number"], entry["client_addr"]) == (
        "7ABC123", "Stolen vehicle investigation", "26-004512", "192.0.2.7")
    assert entry["data"]["results"] == 2 and len(entry["data"]["read_ids"]) == 2


# --- opening reads (462.5) -----------------------------------------------------------------

def test_read_view_audited_and_refused_to_vendor(engine: Engine, settings: Settings,
                                                 world: dict[str, Any]) -> None:
    dispatcher = at_work(engine, settings, person(engine, "dispatcher"),
                         "Hit verification through CLETS (462.7(7))", "CAD 26-1187")
    read = views.view_read(engine, dispatcher, world["reads"][0])
    assert read["plate"] == "7ABC123"
    entry = last(engine, "read.view")
    assert entry["outcome"] == "allowed" and entry["plate"] == "7ABC123"
    assert (entry["purpose"], entry["case_number"], entry["data"]["results"]) == (
        "Hit verification through CLETS (462.7(7))", "CAD 26-1187", 1)
    with pytest.raises(AccessDenied):
        views.view_read(engine, who("vendor"), world["reads"][0])
    assert last(engine, "read.view")["outcome"] == "denied"


def test_thumbnail_needs_the_callers_own_search(engine: Engine, settings: Settings,
                                                world: dict[str, Any]) -> None:
    search = queries.search_reads(engine, settings, person(engine, "officer", name="ann.lee"),
                                  SEARCH)
    bob = at_work(engine, settings, person(engine, "officer", name="bob.ray"))
    with pytest.raises(AccessDenied, match="recent searches"):
        views.thumbnail(engine, settings.data_dir, bob,
                        views.GrantCache(), read_uuid=world["reads"][0], kind="crop",
                        search_id=str(search.search_id))
    refused = last(engine, "access.denied")
    assert (refused["actor"], refused["outcome"]) == ("bob.ray", "denied")


# --- hits (462.7(7)) --------------------------------------------------------------------------

def test_hit_view_audited_and_verification_only_for_dispatch(engine: Engine, settings: Settings,
                                                             world: dict[str, Any]) -> None:
    hits.view_hit(engine, at_work(engine, settings, person(engine, "officer")), world["hit"])
    entry = last(engine, "hit.view")
    assert (entry["plate"], entry["purpose"], entry["case_number"]) == (
        "8XYZ999", "Stolen vehicle investigation", "26-004512")
    with pytest.raises(AccessDenied):
        hits.verify_hit(engine, who("officer"), world["hit"], "confirmed")
    assert last(engine, "hit.verify")["outcome"] == "denied"
    assert hits.verify_hit(engine, who("dispatcher"), world["hit"], "confirmed") \
        == "Confirmed through CLETS"
    assert last(engine, "hit.verify")["outcome"] == "allowed"


# --- hotlists, users, compliance (462.3.1, 462.7(4)) ------------------------------------------

def test_partial_plate_needs_an_expiry_and_the_manage_role(engine: Engine) -> None:
    entry = {"list_name": "INCIDENT-7", "pattern": "7ab*12?", "reason": "Hit and run",
             "case_number": "26-004512"}
    with pytest.raises(AccessDenied):
        hotlists.enter_partial(engine, who("officer"), expires_at="2099-01-01T00:00", **entry)
    assert last(engine, "hotlist.partial.add")["outcome"] == "denied"
    with pytest.raises(ValidationError) as refused:
        hotlists.enter_partial(engine, who("analyst"), expires_at="", **entry)
    assert refused.value.field == "expires_at"
    hotlists.enter_partial(engine, who("analyst"), expires_at="2099-01-01T00:00", **entry)
    added = last(engine, "hotlist.partial.add")
    assert (added["outcome"], added["plate"]) == ("allowed", "7AB*12?")


def test_only_an_administrator_adds_users(engine: Engine, settings: Settings) -> None:
    with pytest.raises(AccessDenied):
        admin.add_account(engine, settings.security, who("analyst"), username="new.user",
                          role="officer", password="Correct-Horse-Battery-9")
    assert last(engine, "user.add")["outcome"] == "denied"


def test_mask_lift_is_the_administrators_and_needs_an_expiry(engine: Engine) -> None:
    order = {"region_id": "1", "court_order": "CR-1", "court": "Superior Court",
             "notify": ignore_change}
    with pytest.raises(AccessDenied):
        compliance_admin.lift_mask(engine, who("officer"), expires_at="2099-01-01T00:00",
                                   **order)
    assert last(engine, "mask.lift")["outcome"] == "denied"
    with pytest.raises(ValidationError) as refused:
        compliance_admin.lift_mask(engine, who("administrator"), expires_at="", **order)
    assert refused.value.field == "expires_at"
