"""Keyset cursors (issue 17): a page continues after the previous page's last row, so rows
written between two calls neither repeat nor shift a page, reads of one instant are split
across pages by id, and a cursor is signed and bound to its list."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import PURPOSE, SEEN, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import reads as read_repo


def _add_reads(engine: Engine, world: dict[str, Any], plate: str, minutes: list[int]) -> None:
    read_repo.insert_batch(engine, [{
        "uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.9,
        "char_confidences": [0.9] * len(plate), "camera_id": world["camera"],
        "site_id": world["site"], "seen_at": SEEN + timedelta(minutes=m),
        "direction": "NB", "created_at": SEEN} for m in minutes])


def _walk(client: FlaskClient, path: str, token: str, params: dict[str, Any],
          between: Any = None) -> list[str]:
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get(path, query_string={**params, "limit": 2, "cursor": cursor},
                          headers=bearer(token, **PURPOSE))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        assert len(body["items"]) <= 2
        seen += [r["uuid"] for r in body["items"]]
        if body["next_cursor"] is None:
            return seen
        if between is not None:
            between()
            between = None
        cursor = body["next_cursor"]


@pytest.mark.parametrize("mode,params", [
    ("exact", {"plate": "5KEY111"}),
    ("partial", {"plate": "5KEY1*"}),
    ("canvass", {"since": "2026-11-02T07:00", "until": "2026-11-02T10:00"}),
])
def test_read_pages_are_keyset(client: FlaskClient, engine: Engine, token_for: TokenFor,
                               world: dict[str, Any], mode: str,
                               params: dict[str, Any]) -> None:
    # Five reads, three of them at one instant (ties broken by id), spread over pages of 2.
    _add_reads(engine, world, "5KEY111", [20, 20, 20, 30, 40])
    token = token_for("officer")
    if mode == "canvass":
        params = {**params, "camera_ids": [str(world["camera"])]}
    expected = 5 + (4 if mode == "canvass" else 0)  # the world's own reads are canvassed too

    def newer_read() -> None:
        # Written after the first page: newer than the boundary, so no later page shows it,
        # and nothing already shown comes again (an offset would shift by one).
        _add_reads(engine, world, "5KEY111", [50])

    seen = _walk(client, "/api/v1/reads", token, {"mode": mode, **params}, newer_read)
    assert len(seen) == len(set(seen)) == expected
    times = [read_repo.get_by_uuid(engine, u)["seen_at"] for u in seen]  # type: ignore[index]
    assert times == sorted(times, reverse=True)
    # Each page's access-log entry lists the reads the page returned, not the one more
    # looked for to tell whether a next page exists.
    entries = sorted(audit_repo.search(engine, action=f"search.{mode}"), key=lambda e: e["id"])
    listed = [read_repo.reads_by_ids(engine, e["data"]["read_ids"]) for e in entries]
    assert [e["data"]["results"] for e in entries] == [len(r) for r in listed]
    assert sorted(str(r["uuid"]) for page in listed for r in page) == sorted(seen)


def test_hit_pages_are_keyset(client: FlaskClient, engine: Engine, token_for: TokenFor,
                              world: dict[str, Any]) -> None:
    made = [world["hit"]]
    for _ in range(4):
        hit_uuid = str(uuid.uuid4())
        hit_repo.write_reads(engine, [{
            "read": {"uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
                     "confidence": 0.95, "char_confidences": [0.95] * 7,
                     "camera_id": world["camera"], "site_id": world["site"], "seen_at": SEEN,
                     "direction": "NB", "created_at": SEEN},
            "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": "7ABC123",
                                                  "match": "exact"}}]}], sinks=[], now=SEEN)
        made.append(hit_uuid)
    seen = _walk(client, "/api/v1/hits", token_for("dispatcher"), {})
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


def test_cursor_is_signed_and_bound_to_its_list(client: FlaskClient, engine: Engine,
                                                token_for: TokenFor,
                                                world: dict[str, Any]) -> None:
    _add_reads(engine, world, "5KEY111", [20, 30, 40])
    token = token_for("officer")
    first = client.get("/api/v1/reads", query_string={"plate": "5KEY111", "limit": 1},
                       headers=bearer(token, **PURPOSE)).get_json()
    cursor = first["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad, path in ((tampered, "/api/v1/reads"), (cursor, "/api/v1/hits")):
        refused = client.get(path, query_string={"plate": "5KEY111", "cursor": bad},
                             headers=bearer(token, **PURPOSE))
        assert refused.status_code == 400 and refused.get_json()["field"] == "cursor", path
