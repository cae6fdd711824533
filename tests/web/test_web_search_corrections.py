"""The search page finds a misread read by its corrected plate, partial patterns included,
and says that the plate was corrected (Civil Code 1798.90.51, 462.7)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo

SEEN = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
SEARCH = {"mode": "partial", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes"}


def test_partial_search_page_finds_and_marks_a_corrected_plate(
        auth: Any, client: Any, engine: Engine) -> None:
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "10.0.0.5"})
    read_uuid = str(uuid.uuid4())
    read_repo.insert_batch(engine, [{
        "uuid": read_uuid, "plate": "7ABC128", "raw_text": "7ABC128", "confidence": 0.71,
        "char_confidences": [0.71] * 7, "camera_id": camera, "site_id": site,
        "seen_at": SEEN, "created_at": SEEN}])
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    assert auth.post(f"/reads/{read_uuid}/corrections",
                     {"plate": "7ABC123", "reason": "crop shows 3, not 8"}).status_code == 303
    for pattern in ("7ABC1*3", "*BC123", "7?????3", "7ABC12?", "*C128"):
        page = auth.post("/search", {**SEARCH, "plate": pattern}).get_data(as_text=True)
        assert read_uuid in page, pattern
        assert re.search(r'corrected to <span class="corrected-plate[^"]*">7ABC123<', page), \
            pattern
    # The search is audited with the read it returned.
    logged = audit_repo.search(engine, action="search.partial")
    assert logged[0]["plate"] == "*C128" and len(logged) == 5
    assert all(len(r["data"]["read_ids"]) == 1 for r in logged)
