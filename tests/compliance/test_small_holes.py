"""Issue 14, point 7: purge approvals, hold release, program activation (462.8-462.10)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from compliance_world import add_read
from sqlalchemy import Engine

from controller.accounts import users
from controller.compliance import program, retention
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import holds as hold_repo
from controller.store import retention as retention_repo

OLD = datetime(2024, 9, 1, 8, 0, tzinfo=UTC)


def test_purge_approvals_dated_before_the_proposal_are_refused(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    add_read(engine, settings.data_dir, world, "7ABC123", OLD)
    proposal = retention.propose(engine, settings, actor="chief")
    assert proposal is not None
    pid = int(proposal["id"])
    proposed_on = proposal["created_at"].date()
    before = proposed_on - timedelta(days=1)
    with pytest.raises(ValidationError, match="council_meeting_on") as council:
        retention.record_council(engine, pid, meeting_on=before, resolution="2026-141",
                                 actor="chief")
    assert "before proposal" in str(council.value)
    with pytest.raises(ValidationError, match="attorney_on"):
        retention.record_attorney(engine, pid, name="Dana Whitfield", permitted_on=before,
                                  actor="chief")
    stored = retention_repo.get_proposal(engine, pid)
    assert stored["council_resolution"] is None and stored["attorney_name"] is None
    assert stored["status"] == "proposed"
    # The same day as the proposal (or later) is accepted.
    retention.record_council(engine, pid, meeting_on=proposed_on, resolution="2026-141",
                             actor="chief")
    done = retention.record_attorney(engine, pid, name="Dana Whitfield",
                                     permitted_on=proposed_on, actor="chief")
    assert done["status"] == "approved"


def test_only_the_owner_or_an_administrator_releases_a_hold(
        auth: Any, engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    read = add_read(engine, settings.data_dir, world, "7ABC123", OLD)
    auth.make_user("ann.lee", "officer")
    auth.make_user("bob.roe", "analyst")
    auth.make_user("chief", "administrator")
    auth.login("ann.lee")
    assert auth.post("/holds", {"case_number": "26-000111", "reason": "homicide evidence",
                                "read_uuids": read}).status_code == 303
    hold_id = hold_repo.list_holds(engine)[0]["id"]
    second = auth.post("/holds", {"case_number": "26-000112", "reason": "burglary",
                                  "read_uuids": read})
    assert second.status_code == 303
    own_id = hold_repo.list_holds(engine)[0]["id"]
    auth.logout()
    auth.login("bob.roe")
    # The page offers the release to the hold's owner and administrators only.
    assert f'id="release-{hold_id}"' not in auth.client.get("/holds").get_data(as_text=True)
    refused = auth.post("/holds/release",
                     {"hold_id": str(hold_id), "confirm": "yes"})
    assert refused.status_code == 403
    assert "placed by ann.lee" in refused.get_data(as_text=True)
    assert hold_repo.get_hold(engine, hold_id)["released_at"] is None
    denied = audit_repo.search(engine, action="hold.release")[0]
    assert (denied["actor"], denied["outcome"]) == ("bob.roe", "denied")
    assert denied["data"]["hold_id"] == hold_id and denied["case_number"] == "26-000111"
    auth.logout()
    auth.login("ann.lee")
    assert auth.post("/holds/release",
                     {"hold_id": str(own_id), "confirm": "yes"}).status_code == 303
    auth.logout()
    auth.login("chief")
    assert f'id="release-{hold_id}"' in auth.client.get("/holds").get_data(as_text=True)
    assert auth.post("/holds/release",
                     {"hold_id": str(hold_id), "confirm": "yes"}).status_code == 303
    assert hold_repo.get_hold(engine, hold_id)["released_by"] == "chief"
    assert [(r["actor"], r["outcome"]) for r in
            reversed(audit_repo.search(engine, action="hold.release"))] == [
        ("bob.roe", "denied"), ("ann.lee", "allowed"), ("chief", "allowed")]


def test_program_is_not_activated_before_a_policy_is_published(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="policy") as refused:
        program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                         resolution="2026-14", actor="chief")
    assert "publish the usage and privacy policy" in str(refused.value)
    assert not program.status(engine, date(2026, 3, 1)).active
    assert audit_repo.search(engine, action="program.activate")[0]["outcome"] == "denied"
    users.publish_policy(engine, version="462-2026", title="Policy 462",
                         adopted_on=date(2026, 1, 2), text="ALPR policy", actor="chief")
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution="2026-14", actor="chief")
    assert program.status(engine, date(2026, 3, 1)).active
