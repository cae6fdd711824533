"""The writer's bulk insert stores what SQLAlchemy's own insert stores, row for row.

``controller.store.bulk.insert_rows`` sends PostgreSQL one array per column instead of
SQLAlchemy's ``INSERT ... VALUES`` (issue 18, ingest). The oracle here is SQLAlchemy's
single-row ``table.insert()``: the same rows go both ways, under different uuids, and
what comes back must be equal, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from controller.store import bulk, hits, partitions, sites
from controller.store.schema import read_images, reads

T0 = datetime(2026, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)
OPTIONAL = ("plate_state", "direction", "box", "latitude", "longitude")
ODD = ["7ABC123", "", "O'NEIL", 'Q"\\{},', "ÆØÅ-1", "NULL", " SPACE ", "x" * 16]


@pytest.fixture
def camera(engine: Engine) -> tuple[int, int]:
    site = sites.create_site(engine, code="BULK", name="bulk")
    return site, sites.create_camera(engine, site, {"name": "bulk cam", "host": "127.0.0.1"})


def varied_reads(rng: random.Random, n: int, camera: tuple[int, int]) -> list[dict[str, Any]]:
    """Reads whose values and whose set of keys vary: odd text, ints among floats,
    times in several zones across a month's end, optional fields given or not."""
    rows = []
    for i in range(n):
        plate = rng.choice(ODD)
        seen = (T0 + timedelta(microseconds=rng.randint(-10**9, 10**9))).astimezone(
            timezone(timedelta(hours=rng.choice([-8, 0, 5]))))
        row: dict[str, Any] = {
            "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "plate": plate,
            "raw_text": plate + "?" * rng.randint(0, 3),
            "confidence": rng.choice([1, 0, 0.5, rng.random()]),
            "char_confidences": [rng.choice([1, 0.25, rng.random()]) for _ in plate],
            "camera_id": camera[1], "site_id": camera[0], "seen_at": seen,
            "created_at": seen + timedelta(seconds=i)}
        for key in OPTIONAL:
            if rng.random() < 0.5:
                row[key] = {"plate_state": rng.choice(["CA", None]),
                            "direction": rng.choice(["north", "", None]),
                            "box": rng.choice([[1, 2, 3, 4], [], None, {"a": [0.5]}]),
                            "latitude": rng.choice([32.9, -90, None]),
                            "longitude": rng.choice([-115.6, 180, None])}[key]
        rows.append(row)
    # Whole numbers first, where an array would take its type from the first value.
    rows[0].update(confidence=1, latitude=-90)
    return rows


def stored(engine: Engine, uuids: list[str]) -> list[dict[str, Any]]:
    """The rows stored under ``uuids``, in that order, without their uuid and id."""
    with engine.connect() as conn:
        got = {r["uuid"]: dict(r) for r in conn.execute(
            select(reads).where(reads.c.uuid.in_(uuids))).mappings()}
    return [{k: v for k, v in got[u].items() if k not in ("uuid", "id")} for u in uuids]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_rows_equal_sqlalchemys_own_insert(engine: Engine, camera: tuple[int, int],
                                                seed: int) -> None:
    rng = random.Random(seed)
    rows = varied_reads(rng, 120, camera)
    twins = [{**row, "uuid": str(uuid.UUID(int=rng.getrandbits(128)))} for row in rows]
    partitions.ensure_for(engine, [row["seen_at"] for row in rows])
    with engine.begin() as conn:
        returned = bulk.insert_rows(conn, reads, rows, skip_existing="uuid",
                                    returning=("uuid", "id"))
        for twin in twins:  # the oracle: SQLAlchemy's statement, one row at a time
            conn.execute(reads.insert(), twin)
    assert sorted(u for u, _ in returned) == sorted(row["uuid"] for row in rows)
    ids = dict(returned)
    with engine.connect() as conn:
        by_uuid = dict(conn.execute(select(reads.c.uuid, reads.c.id)).all())
    assert all(by_uuid[u] == i for u, i in ids.items())
    bulk_rows = stored(engine, [row["uuid"] for row in rows])
    assert bulk_rows == stored(engine, [twin["uuid"] for twin in twins])
    # Spot-check against the input itself, so both paths cannot be wrong alike.
    for row, got in zip(rows, bulk_rows, strict=True):
        assert got["plate"] == row["plate"] and got["seen_at"] == row["seen_at"]
        assert got["char_confidences"] == row["char_confidences"]
        assert got["box"] == row.get("box") and got["latitude"] == row.get("latitude")


def test_a_stored_uuid_is_skipped_and_left_as_it_was(engine: Engine,
                                                     camera: tuple[int, int]) -> None:
    rows = varied_reads(random.Random(7), 20, camera)
    partitions.ensure_for(engine, [row["seen_at"] for row in rows])
    with engine.begin() as conn:
        first = bulk.insert_rows(conn, reads, rows[:10], skip_existing="uuid",
                                 returning=("uuid", "id"))
    before = stored(engine, [row["uuid"] for row in rows[:10]])
    replay = [{**row, "plate": "CHANGED"} for row in rows[:10]]
    with engine.begin() as conn:
        second = bulk.insert_rows(conn, reads, [*replay, *rows[10:], rows[10]],
                                  skip_existing="uuid", returning=("uuid", "id"))
    assert len(first) == 10
    assert sorted(u for u, _ in second) == sorted(row["uuid"] for row in rows[10:])
    assert stored(engine, [row["uuid"] for row in rows[:10]]) == before


def test_a_column_that_every_row_leaves_empty_is_null(engine: Engine,
                                                      camera: tuple[int, int]) -> None:
    rows = varied_reads(random.Random(9), 5, camera)
    for row in rows:
        row.update(plate_state=None, latitude=None)
        row.pop("box", None)
    rows[0]["box"] = [9, 9, 9, 9]
    partitions.ensure_for(engine, [row["seen_at"] for row in rows])
    with engine.begin() as conn:
        bulk.insert_rows(conn, reads, rows)
    got = stored(engine, [row["uuid"] for row in rows])
    assert [g["plate_state"] for g in got] == [None] * 5
    assert [g["latitude"] for g in got] == [None] * 5
    assert [g["box"] for g in got] == [[9, 9, 9, 9], None, None, None, None]


def test_the_writers_batch_stores_each_image_with_its_read(engine: Engine,
                                                          camera: tuple[int, int]) -> None:
    rows = varied_reads(random.Random(11), 30, camera)
    items: list[dict[str, Any]] = [{"read": row, "images": [
        {"kind": kind, "path": f"images/{row['uuid']}-{kind}.jpg", "sha256": f"{i:064x}",
         "width": 640 + i, "height": 360} for kind in ("crop", "overview")[:1 + i % 2]]}
        for i, row in enumerate(rows)]
    hits.write_reads(engine, items, sinks=[], now=T0)
    with engine.connect() as conn:
        got = {(r["uuid"], r["kind"]): (r["path"], r["sha256"], r["width"], r["height"])
               for r in conn.execute(select(reads.c.uuid, read_images).join(
                   read_images, read_images.c.read_id == reads.c.id)).mappings()}
    assert got == {(item["read"]["uuid"], image["kind"]): (
        image["path"], image["sha256"], image["width"], image["height"])
        for item in items for image in item["images"]}


def test_a_value_too_long_for_its_column_is_never_stored_cut_short(
        engine: Engine, camera: tuple[int, int]) -> None:
    rows = varied_reads(random.Random(13), 3, camera)
    rows[1]["plate"] = "ABCDEFGHIJKLMNOPQRSTU"  # 21 characters for a String(16) column
    partitions.ensure_for(engine, [row["seen_at"] for row in rows])
    try:
        with engine.begin() as conn:
            bulk.insert_rows(conn, reads, rows)
    except DBAPIError:  # PostgreSQL refuses it, and nothing of the batch is stored
        assert stored_uuids(engine) == set()
    else:  # SQLite does not enforce lengths: then it is stored whole
        assert [g["plate"] for g in stored(engine, [r["uuid"] for r in rows])] == [
            row["plate"] for row in rows]


def stored_uuids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {str(u) for u in conn.execute(select(reads.c.uuid)).scalars()}
