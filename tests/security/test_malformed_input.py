"""L7: malformed ids and oversized hotlist fields get a typed 400/404 naming the field.

The probe campaign's 500s: a hold id of 10^23 (and -1, 4242), a canvass camera id
of 10^23, and a hotlist field over the csv module's 128 KiB limit. Each is now
refused where the input is parsed, and nothing stored changes.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from tests_web_helpers import Auth

from controller.alerts import hotlists
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import holds as hold_repo
from controller.store.schema import evidence_hold_reads, evidence_holds, hotlist_entries
from controller.store.schema import hotlists as hotlist_table
from controller.validation import MAX_ID, record_id

# Ids no row can have: zero, negatives and integers far past the database's INTEGER keys.
BAD_IDS = st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_ID + 1),
                    st.sampled_from([-1, 0, MAX_ID + 1, 2**63, 10**23, -(10**23)]))
FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
SEARCH = {"mode": "canvass", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes",
          "since": "2026-11-01T11:00", "until": "2026-11-01T16:00"}
GOOD_LIST = b"plate,state,category,reason\n7ABC123,CA,stolen vehicle,SVS 1\n"
BIG = "A" * (128 * 1024 + 1)


@pytest.fixture(autouse=True)
def _cheap_argon2(cheap_argon2: None) -> None:
    """These tests sign users in: small argon2 parameters (see cheap_argon2)."""


def stored(engine: Engine) -> dict[str, Any]:
    """What the probes must leave alone: holds as stored, and every hotlist row."""
    with engine.connect() as conn:
        return {
            "holds": [tuple(r) for r in conn.execute(
                select(evidence_holds).order_by(evidence_holds.c.id))],
            "hold_reads": conn.execute(select(func.count()).select_from(
                evidence_hold_reads)).scalar_one(),
            "hotlists": [tuple(r) for r in conn.execute(
                select(hotlist_table).order_by(hotlist_table.c.id))],
            "entries": [tuple(r) for r in conn.execute(
                select(hotlist_entries).order_by(hotlist_entries.c.id))],
        }


@pytest.fixture
def officer(auth: Auth, engine: Engine) -> Auth:
    """An officer (holds.manage) signed in, with one open hold on file."""
    hold_repo.create_hold(engine, case_number="26-004512", reason="robbery",
                          actor="test", now=datetime.now(UTC))
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    return auth


@pytest.fixture
def analyst(auth: Auth, engine: Engine, settings: Settings) -> Auth:
    """An analyst (search, hotlists.manage) signed in, with one hotlist imported."""
    hotlists.import_hotlist(engine, settings.hotlists, GOOD_LIST, "CA-SVS", actor="test")
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    return auth


# How the page names each field to the user (its label, not the internal name).
LABELS = {"hold_id": "Hold id", "camera_ids": "Cameras", "list_name": "List name",
          "reason": "Reason", "state": "State", "pattern": "Pattern"}


def _refused(response: Any, status: tuple[int, ...], field: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code in status, page[-2000:]
    assert f"{LABELS[field]}:" in page, page[-2000:]


@FEW
@given(hold_id=BAD_IDS, path=st.sampled_from(["/holds/add", "/holds/release", "/holds/export"]))
def test_hold_ids_out_of_range_are_a_400_naming_the_field(
        officer: Auth, engine: Engine, hold_id: int, path: str) -> None:
    before = stored(engine)
    response = officer.post(path, {"hold_id": str(hold_id), "read_uuids": "x"})
    _refused(response, (400,), "hold_id")
    assert "not an id" in response.get_data(as_text=True)
    assert stored(engine) == before


@pytest.mark.parametrize("path", ["/holds/add", "/holds/release", "/holds/export"])
def test_a_hold_that_is_not_on_file_is_refused_not_a_500(
        officer: Auth, engine: Engine, path: str) -> None:
    before = stored(engine)
    response = officer.post(path, {"hold_id": "4242", "read_uuids": "x", "confirm": "yes"})
    # A well-formed id that names no hold: 404 (add, release) or the form's 400 (export).
    assert response.status_code in (400, 404)
    assert "no evidence hold 4242" in response.get_data(as_text=True)
    assert stored(engine) == before


@FEW
@given(camera_id=BAD_IDS)
def test_canvass_camera_ids_out_of_range_are_a_400_naming_the_field(
        analyst: Auth, engine: Engine, camera_id: int) -> None:
    before = stored(engine)
    response = analyst.post("/search", {**SEARCH, "camera_ids": ["1", str(camera_id)]})
    _refused(response, (400,), "camera_ids")
    assert stored(engine) == before


@pytest.mark.parametrize("column", ["plate", "state", "category", "reason", "ncic_number"])
def test_a_hotlist_field_over_128_kib_is_refused_by_line(
        analyst: Auth, engine: Engine, column: str) -> None:
    cells = {"plate": "8XYZ999", "state": "CA", "category": "stolen vehicle",
             "reason": "SVS 2", "ncic_number": "V123"}
    cells[column] = BIG
    data = ("plate,state,category,reason,ncic_number\n" + ",".join(cells.values()) + "\n")
    before = stored(engine)
    response = analyst.post("/hotlists/upload", {
        "list_name": "CA-SVS", "file": (io.BytesIO(data.encode()), "list.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[-2000:]
    assert "line 2:" in page and "longer than 4096 characters" in page
    assert stored(engine) == before


@pytest.mark.parametrize(("column", "limit"), [("reason", 300), ("ncic_number", 32),
                                               ("ori", 16), ("alert_note", 500)])
def test_a_hotlist_field_past_its_stored_width_is_named(
        analyst: Auth, engine: Engine, column: str, limit: int) -> None:
    data = f"plate,category,{column}\n8XYZ999,stolen vehicle,{'B' * (limit + 1)}\n"
    before = stored(engine)
    response = analyst.post("/hotlists/upload", {
        "list_name": "CA-SVS", "file": (io.BytesIO(data.encode()), "list.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[-2000:]
    assert "line 2:" in page and f"{column} is longer than {limit} characters" in page
    assert stored(engine) == before


@pytest.mark.parametrize(("field", "value"), [
    ("list_name", BIG), ("reason", BIG), ("state", BIG), ("pattern", BIG),
    ("list_name", "L" * 129), ("reason", "R" * 301), ("state", "CAL")])
def test_partial_plate_fields_are_bounded(
        analyst: Auth, engine: Engine, field: str, value: str) -> None:
    form = {"list_name": "major-incidents", "pattern": "7ab*12?", "state": "ca",
            "reason": "Homicide 26-4512", "expires_at": "2099-01-01T00:00", field: value}
    before = stored(engine)
    _refused(analyst.post("/hotlists/partial", form), (400,), field)
    assert stored(engine) == before


def test_an_upload_list_name_over_128_characters_is_named(analyst: Auth, engine: Engine) -> None:
    before = stored(engine)
    response = analyst.post("/hotlists/upload", {
        "list_name": "L" * 129, "file": (io.BytesIO(GOOD_LIST), "list.csv")},
        content_type="multipart/form-data")
    _refused(response, (400,), "list_name")
    assert stored(engine) == before


@FEW
@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_in_range_is_accepted(number: int) -> None:
    assert record_id("hold_id", f" {number} ") == number


@pytest.mark.parametrize("value", ["", "abc", "1.5", "1e3"])
def test_an_id_that_is_not_a_number_names_the_field(value: str) -> None:
    with pytest.raises(ValidationError, match="a number is required") as refused:
        record_id("camera_ids", value)
    assert refused.value.field == "camera_ids"
