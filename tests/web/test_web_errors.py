"""The application's error handlers: a use case's NotFound, ValidationError and refusals.

Views carry no ``except`` clauses for these; the handlers answer 404, 400 (naming
the field) and 403, on the view's own page where it names one with ``@on_error``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from controller.store import audit as audit_repo


def test_not_found_is_404_with_the_error_page(auth, client) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    missing = client.get(f"/hits/{uuid.uuid4()}")
    assert missing.status_code == 404 and "no hit" in missing.get_data(as_text=True)
    assert client.get("/transparency/policy?version=424242").status_code == 404
    assert client.get("/transparency/policy?version=abc").status_code == 404


def test_validation_error_without_a_page_names_the_field(auth) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    refused = auth.post("/policy", {"policy_id": "abc"})
    assert refused.status_code == 400
    assert "Policy: that is not the current policy version" in refused.get_data(as_text=True)


def test_validation_error_on_the_views_own_page_keeps_the_input(auth, engine: Engine) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    page = auth.post("/hotlists/partial", {"list_name": "INCIDENT-7", "pattern": "7AB*12?",
                                           "reason": "Hit and run", "expires_at": ""})
    body = page.get_data(as_text=True)
    assert page.status_code == 400 and "Expires at:" in body and "Hit and run" in body
    assert audit_repo.search(engine, action="hotlist.partial.add") == []


def test_policy_refusal_is_403_on_the_page(auth, engine: Engine) -> None:
    auth.make_user("ada.admin", "administrator")
    auth.login("ada.admin")
    assert auth.post("/compliance/retention/propose").status_code == 303
    proposal_id = audit_repo.search(engine, action="retention.propose")[0]["data"]["proposal_id"]
    refused = auth.post("/compliance/retention/purge", {"proposal_id": str(proposal_id)})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Retention and purges" in body and "policy 462.8" in body
    assert audit_repo.search(engine, action="retention.purge")[0]["outcome"] == "denied"
