"""Issue 14 point 8 and 7(d): the quarterly package's random sample of searches (462.6),
reviewed by a supervisor who never marks their own searches; an overdue review is shown."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from controller import audit
from controller.compliance import exports
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import audit as audit_repo

Q3 = datetime(2026, 7, 1, tzinfo=UTC)


def with_sample_size(settings: Settings, size: int) -> Settings:
    return settings.model_copy(update={"audit": settings.audit.model_copy(
        update={"sample_size": size})})


def searches(engine: Engine, plan: list[tuple[str, int]]) -> list[int]:
    """Searches (and some entries that are not searches) spread over Q3 2026."""
    ids = []
    for n, (actor, day) in enumerate(sorted(plan, key=lambda p: p[1])):
        at = Q3 + timedelta(days=day, hours=9, minutes=n)
        ids.append(audit.record(engine, audit.AuditEvent(
            actor=actor, action="search.exact", plate=f"7ABC{n:03d}",
            purpose="Stolen vehicle investigation", case_number=f"26-{n:06d}"), at=at))
        audit.record(engine, audit.AuditEvent(actor=actor, action="read.view",
                                              plate=f"7ABC{n:03d}"), at=at)
        if n % 7 == 0:
            audit.record(engine, audit.AuditEvent(actor=actor, action="search.partial",
                                                  outcome="denied"), at=at)
    return ids


def independent_sample(package: Path, size: int) -> tuple[str, list[int]]:
    """The documented method, re-implemented from the package's own files."""
    anchor = json.loads((package / "audit-anchor.json").read_text())
    seed = hashlib.sha256(f"2026Q3|{anchor['row_id']}|{anchor['hash']}".encode()).hexdigest()
    entries = [json.loads(line) for line in
               (package / "access-log.jsonl").read_text().splitlines()]
    candidates = [e["id"] for e in entries
                  if e["action"].startswith("search.") and e["outcome"] == "allowed"]
    keyed = sorted((hashlib.sha256(f"{seed}|{i}".encode()).hexdigest(), i) for i in candidates)
    return seed, [i for _k, i in keyed[:size]]


def test_sample_is_drawn_reproducibly_from_the_recorded_seed(
        engine: Engine, settings: Settings, tmp_path: Path) -> None:
    plan = [("ann.lee", d) for d in range(0, 80, 3)] + [("bob.day", d) for d in range(1, 60, 5)]
    made = searches(engine, plan)
    small = with_sample_size(settings, 7)
    out = tmp_path / "packages"
    out.mkdir()
    package = exports.build_audit_package(engine, small, "2026Q3", out, actor="system:scheduler")
    sample = json.loads((package / "sample.json").read_text())
    seed, expected = independent_sample(package, 7)
    assert sample["seed"] == seed
    assert [s["event_id"] for s in sample["searches"]] == expected
    assert len(expected) == 7 and set(expected) <= set(made)
    assert sample["population"] == len(made) and sample["size"] == 7
    assert "sha256_hex('<seed>|<entry id>')" in sample["method"]
    # The seed comes from the chain head as anchored: a row of the log, not a chosen number.
    head = audit_repo.audit_event(engine, sample["chain_head_id"])
    assert head is not None and head["hash"] == sample["chain_head_hash"]
    assert head["action"] == "audit.anchor"
    summary = (package / "summary.html").read_text()
    assert f'id="sample-seed">{seed}<' in summary
    assert "sample.json" in (package / "MANIFEST.sha256").read_text()
    # Built again (another folder), the quarter keeps the sample drawn the first time.
    again_dir = tmp_path / "again"
    again_dir.mkdir()
    again = exports.build_audit_package(engine, small, "2026Q3", again_dir, actor="chief")
    assert json.loads((again / "sample.json").read_text())["seed"] == seed
    drawn = audit_repo.search(engine, action="audit.sample")
    assert len(drawn) == 1 and drawn[0]["data"]["sampled"] == expected
    # The quarter's review waits for the sample to be marked.
    with pytest.raises(ValidationError, match="7 sampled searches of 2026Q3"):
        exports.record_review(engine, quarter="2026Q3", reviewed_on=date(2026, 10, 20),
                              findings="none", actions="none", actor="chief")


def test_a_supervisor_marks_the_sample_but_never_their_own_searches(
        auth: Any, engine: Engine, settings: Settings) -> None:
    made = searches(engine, [("ann.lee", 3), ("chief", 10), ("ann.lee", 20)])
    auth.make_user("chief", "administrator")
    auth.make_user("deputy", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("chief")
    built = auth.post("/compliance/audits/export", {"quarter": "2026Q3"})
    assert built.status_code == 303
    page = auth.client.get("/compliance/audits/sample?quarter=2026Q3").get_data(as_text=True)
    assert 'id="seed"' in page and "your own search" in page
    from controller.store import audit_samples as sample_repo

    items = {i["event_id"]: i for i in sample_repo.items(engine, "2026Q3")}
    assert set(items) == set(made)  # three searches, sample size 25: all of them
    own = items[made[1]]
    refused = auth.post("/compliance/audits/sample", {"item_id": str(own["id"]),
                                                      "verdict": "justified", "note": "mine"})
    assert refused.status_code == 403 and "own searches" in refused.get_data(as_text=True)
    denied = audit_repo.search(engine, action="audit.sample_review")[0]
    assert (denied["actor"], denied["outcome"]) == ("chief", "denied")
    assert sample_repo.get_item(engine, own["id"])["verdict"] is None  # type: ignore[index]
    no_note = auth.post("/compliance/audits/sample", {"item_id": str(items[made[0]]["id"]),
                                                      "verdict": "justified", "note": " "})
    assert no_note.status_code == 400 and "note" in no_note.get_data(as_text=True)
    for event_id, verdict in ((made[0], "justified"), (made[2], "not_justified")):
        assert auth.post("/compliance/audits/sample", {
            "item_id": str(items[event_id]["id"]), "verdict": verdict,
            "note": "case file checked"}).status_code == 303
    review = {"quarter": "2026Q3", "reviewed_on": datetime.now(UTC).date().isoformat(),
              "findings": "one unjustified search", "actions": "officer counselled"}
    early = auth.post("/compliance/audits/review", review)
    assert early.status_code == 400 and "1 sampled searches" in early.get_data(as_text=True)
    auth.logout()
    auth.login("deputy")
    assert auth.post("/compliance/audits/sample", {"item_id": str(own["id"]),
                                                   "verdict": "justified",
                                                   "note": "patrol stop"}).status_code == 303
    assert auth.post("/compliance/audits/review", review).status_code == 303
    marks = [(r["actor"], r["outcome"], r["data"].get("verdict")) for r in
             reversed(audit_repo.search(engine, action="audit.sample_review"))]
    assert marks == [("chief", "denied", None), ("chief", "allowed", "justified"),
                     ("chief", "allowed", "not_justified"), ("deputy", "allowed", "justified")]
    auth.logout()
    auth.login("ann.lee")
    assert auth.client.get("/compliance/audits/sample").status_code == 403


def test_an_overdue_review_is_shown_to_administrators_and_in_metrics(
        auth: Any, engine: Engine, settings: Settings) -> None:
    searches(engine, [("ann.lee", 3)])
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("chief")
    home = auth.client.get("/").get_data(as_text=True)
    assert 'id="overdue-reviews"' not in home  # no package yet: nothing to review
    assert "sightline_audit_reviews_overdue 0.0" in auth.client.get("/metrics").get_data(
        as_text=True)
    assert auth.post("/compliance/audits/export", {"quarter": "2026Q3"}).status_code == 303
    # 2026Q3 ended on 2026-10-01; with 30 days to review, it is late from 2026-11-01.
    due = date(2026, 10, 31)
    today = datetime.now(UTC).date()
    home = auth.client.get("/").get_data(as_text=True)
    if today > due:
        assert 'id="overdue-2026Q3"' in home and "due by 2026-10-31" in home
        assert "1 sampled searches still to mark" in home
        assert "sightline_audit_reviews_overdue 1.0" in auth.client.get("/metrics").get_data(
            as_text=True)
    auth.logout()
    auth.login("ann.lee")
    assert 'id="overdue-reviews"' not in auth.client.get("/").get_data(as_text=True)
    from controller.compliance import admin

    late = admin.overdue_reviews(engine, settings, today=date(2026, 11, 1))
    assert [(o.quarter, o.due_on, o.days_late) for o in late] == [("2026Q3", due, 1)]
    assert admin.overdue_reviews(engine, settings, today=due) == []
    longer = settings.model_copy(update={"audit": settings.audit.model_copy(
        update={"review_due_days": 60})})
    assert admin.overdue_reviews(engine, longer, today=date(2026, 11, 1)) == []
