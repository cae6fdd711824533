"""The read store: migrations, idempotent batch insert, exact/partial/canvass searches."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from controller.errors import ValidationError
from controller.store import reads as repo
from controller.store import sites
from controller.store.migrate import current_revision, head_revision

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def cams(engine: Engine) -> tuple[int, int, int]:
    north = sites.create_site(engine, code="HWY99-N", name="Hwy 99 north", latitude=32.95,
                              longitude=-115.62)
    south = sites.create_site(engine, code="MAIN-5TH", name="Main & 5th", latitude=32.90,
                              longitude=-115.60)
    a = sites.create_camera(engine, north, {"name": "NB lane 1", "host": "127.0.0.1"})
    b = sites.create_camera(engine, north, {"name": "NB lane 2", "host": "127.0.0.1"})
    c = sites.create_camera(engine, south, {"name": "EB", "host": "127.0.0.1"})
    return a, b, c


def read(plate: str, camera: int, minutes: int) -> dict[str, object]:
    return {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.9,
            "char_confidences": [0.9] * len(plate), "camera_id": camera,
            "site_id": 1 if camera < 3 else 2, "seen_at": T0 + timedelta(minutes=minutes),
            "created_at": T0}


def test_schema_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() is not None
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_batch_insert_is_idempotent_by_uuid(engine: Engine, cams: tuple[int, int, int]) -> None:
    batch = [read("7ABC123", cams[0], i) for i in range(50)]
    assert repo.insert_batch(engine, batch) == 50
    assert repo.insert_batch(engine, [*batch[:10], read("8XYZ999", cams[1], 0)]) == 1
    assert len(repo.search_exact(engine, "7ABC123", limit=1000)) == 50
    stored = repo.get_by_uuid(engine, str(batch[3]["uuid"]))
    assert stored is not None and stored["seen_at"] == T0 + timedelta(minutes=3)
    assert stored["char_confidences"] == [0.9] * 7


def test_naive_time_and_unknown_column_refused(engine: Engine, cams: tuple[int, int, int]) -> None:
    bad = read("7ABC123", cams[0], 0)
    bad["seen_at"] = datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive datetime"):
        repo.insert_batch(engine, [bad])
    with pytest.raises(ValidationError, match=r"read\.colour"):
        repo.insert_batch(engine, [{**read("X", cams[0], 0), "colour": "red"}])
    assert repo.search_exact(engine, "7ABC123") == []


def test_exact_partial_and_canvass(engine: Engine, cams: tuple[int, int, int]) -> None:
    a, b, c = cams
    repo.insert_batch(engine, [read("7ABC123", a, 0), read("7ABD123", b, 30),
                               read("7AB9912", c, 90), read("8ABC123", a, 150)])
    assert [r["plate"] for r in repo.search_exact(engine, "7ABC123")] == ["7ABC123"]
    assert {r["plate"] for r in repo.search_partial(engine, "7AB*12?")} == {
        "7ABC123", "7ABD123"}
    assert {r["plate"] for r in repo.search_partial(engine, "*BC123")} == {"7ABC123", "8ABC123"}
    assert {r["plate"] for r in repo.search_partial(engine, "7AB?123")} == {"7ABC123", "7ABD123"}
    window = repo.search_canvass(engine, [a, b], T0, T0 + timedelta(hours=2))
    assert [r["plate"] for r in window] == ["7ABD123", "7ABC123"]  # newest first
    near = sites.cameras_near(engine, 32.95, -115.62, 500)
    assert sorted(near) == [a, b]


@pytest.mark.parametrize("pattern", ["", "7AB%", "**", "7ab*", "7AB_12"])
def test_bad_partial_patterns_refused(pattern: str) -> None:
    with pytest.raises(ValidationError, match="plate"):
        repo.check_partial(pattern)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?*%_ab-", max_size=20))
def test_partial_validator_accepts_exactly_the_alphabet(pattern: str) -> None:
    ok = (0 < len(pattern) <= 16 and set(pattern) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?*")
          and pattern.strip("*?") != "" and any(ch not in "*?" for ch in pattern)
          and len(re.findall(r"\*+", pattern)) <= repo.MAX_STAR_RUNS)
    if ok:
        assert repo.check_partial(pattern) == pattern
    else:
        with pytest.raises(ValidationError):
            repo.check_partial(pattern)


def test_canvass_needs_cameras_and_a_forward_window(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="cameras"):
        repo.search_canvass(engine, [], T0, T0 + timedelta(hours=1))
    with pytest.raises(ValidationError, match="until"):
        repo.search_canvass(engine, [1], T0, T0)


def test_canvass_pages_are_the_window_newest_first_across_cameras(
        engine: Engine, cams: tuple[int, int, int]) -> None:
    a, b, c = cams
    # Readings every 7 minutes at a, every 5 at b (ties with a at multiples of 35), every 3
    # at c (not chosen); some before and after the window.
    batch = [read(f"A{m:03d}", a, m) for m in range(0, 200, 7)]
    batch += [read(f"B{m:03d}", b, m) for m in range(0, 200, 5)]
    batch += [read(f"C{m:03d}", c, m) for m in range(0, 200, 3)]
    repo.insert_batch(engine, batch)
    since, until = T0 + timedelta(minutes=20), T0 + timedelta(minutes=150)
    # The oracle: the table read directly, filtered and ordered here.
    with engine.connect() as conn:
        every = conn.execute(text("SELECT id, camera_id, plate FROM reads")).all()
    minute = {r["plate"]: int(str(r["plate"])[1:]) for r in batch}
    expected = sorted(((minute[plate], ident, plate) for ident, camera, plate in every
                       if camera in (a, b) and 20 <= minute[plate] < 150), reverse=True)
    assert len(expected) == 19 + 26
    # A camera named twice counts once; a limit below one camera's reads still takes the
    # newest of both; keyset pages walk the whole window once.
    first = repo.search_canvass(engine, [b, a, b], since, until, limit=4)
    assert [r["plate"] for r in first] == [plate for _, _, plate in expected[:4]]
    walked: list[str] = []
    before = None
    while True:
        page = repo.search_canvass(engine, [a, b], since, until, limit=7, before=before)
        walked += [r["plate"] for r in page]
        if len(page) < 7:
            break
        before = (page[-1]["seen_at"], int(page[-1]["id"]))
    assert walked == [plate for _, _, plate in expected]
