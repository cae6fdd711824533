"""Publication (462.9), the public page, audit reviews (462.6) and purges from the web."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from compliance_world import add_read
from fpdf import FPDF
from sqlalchemy import Engine

from controller import audit
from controller.accounts import users
from controller.compliance import program
from controller.settings import Settings
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import holds as hold_repo
from controller.store import retention as retention_repo


def upload(auth: Any, version: str, name: str, body: bytes) -> Any:
    return auth.post("/compliance/policy", {
        "version": version, "title": "ALPR Policy 462", "adopted_on": "2026-11-01",
        "file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


def a_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Policy 462 as adopted")
    return bytes(pdf.output())


def test_policy_versions_are_published_acknowledged_and_public(
        auth: Any, client: Any, engine: Engine) -> None:
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("chief")
    bad = upload(auth, "2026.1", "policy.docx", b"PK\x03\x04")
    assert bad.status_code == 400 and "File: upload the policy as Markdown" in \
        bad.get_data(as_text=True)
    fake = upload(auth, "2026.1", "policy.pdf", b"not a pdf")
    assert fake.status_code == 400 and "does not start like a PDF" in fake.get_data(as_text=True)
    assert upload(auth, "2026.1", "policy.md", b"# Policy 462\n\nReads are kept 730 days.\n") \
        .status_code == 303
    # The gate answer cached for the administrator is dropped by the new version.
    assert auth.client.get("/compliance/policy").status_code == 403
    assert auth.post("/policy", {"policy_id": str(repo_history(engine)[0]["id"]),
                                 "read": "yes"}).status_code == 302
    duplicate = upload(auth, "2026.1", "policy.md", b"# again\n")
    assert duplicate.status_code == 400 and "already published" in \
        duplicate.get_data(as_text=True)
    assert upload(auth, "2026.2", "policy.pdf", a_pdf()).status_code == 303
    assert auth.post("/policy", {"policy_id": str(repo_history(engine)[0]["id"]),
                                 "read": "yes"}).status_code == 302
    listing = auth.client.get("/compliance/policy").get_data(as_text=True)
    assert "application/pdf" in listing and "text/markdown" in listing
    auth.logout()
    # A new version closes data routes until the user acknowledges it (the training gate).
    auth.login("ann.lee")
    gate = auth.client.get("/search")
    assert gate.status_code == 403 and "2026.2" in gate.get_data(as_text=True)
    read = auth.client.get("/policy")
    assert read.status_code == 200 and 'id="policy-pdf"' in read.get_data(as_text=True)
    version_id = next(v for v in repo_history(engine) if v["version"] == "2026.2")["id"]
    assert auth.post("/policy", {"policy_id": str(version_id), "read": "yes"}).status_code == 302
    assert auth.client.get("/search").status_code == 200
    auth.logout()
    public = client.get("/transparency")
    page = public.get_data(as_text=True)
    assert public.status_code == 200 and "version 2026.2" in page and "2026.1" in page
    document = client.get(f"/transparency/policy?version={version_id}")
    assert document.status_code == 200 and document.content_type == "application/pdf"
    assert document.data.startswith(b"%PDF-")
    assert client.get("/transparency/policy?version=x").status_code == 404
    assert [r["data"]["content_type"] for r in
            reversed(audit_repo.search(engine, action="policy.publish"))] == [
        "text/markdown; charset=utf-8", "application/pdf"]


def repo_history(engine: Engine) -> list[dict[str, Any]]:

    return account_repo.policy_history(engine)


def test_public_page_shows_program_figures_and_last_review(
        auth: Any, client: Any, engine: Engine, settings: Settings,
        world: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    policy_id = users.publish_policy(engine, version="462-test", title="Policy 462",
                                     adopted_on=date(2026, 1, 2), text="ALPR policy",
                                     actor="t")
    program.activate(engine, hearing_on=date(2026, 6, 2), adopted_on=date(2026, 6, 16),
                     resolution="2026-77", actor="chief")
    add_read(engine, settings.data_dir, world, "7ABC123", now - timedelta(days=1), hit=True)
    add_read(engine, settings.data_dir, world, "7ABC124", now - timedelta(days=2))
    add_read(engine, settings.data_dir, world, "7ABC125", now - timedelta(days=40), hit=True)
    audit.record(engine, audit.AuditEvent(actor="ann.lee", action="search.exact",
                                          plate="7ABC123", purpose="p", case_number="c"))
    page = client.get("/transparency").get_data(as_text=True)
    for element, value in (("hearing", "2026-06-02"), ("retention", "730 days"),
                           ("sites", "1"), ("cameras", "1"), ("reads", "2"), ("hits", "1"),
                           ("searches", "1"), ("last-review", "none yet")):
        assert f'id="{element}">{value}' in page, element
    chief = auth.make_user("chief", "administrator")
    users.acknowledge_policy(engine, user=chief, policy_id=policy_id)
    auth.login("chief")
    early = auth.post("/compliance/audits/review", {
        "quarter": "2026Q4", "reviewed_on": "2026-11-20", "findings": "f", "actions": "a"})
    assert early.status_code == 400 and "reviewed after it ends" in early.get_data(as_text=True)
    assert auth.post("/compliance/audits/review", {
        "quarter": "2026Q3", "reviewed_on": "2026-10-15",
        "findings": "Two searches without case numbers; one vague purpose.",
        "actions": "Both officers retrained."}).status_code == 303
    again = auth.post("/compliance/audits/review", {
        "quarter": "2026q3", "reviewed_on": "2026-10-16", "findings": "f", "actions": "a"})
    assert again.status_code == 400 and "already recorded" in again.get_data(as_text=True)
    auth.logout()
    assert 'id="last-review">2026-10-15' in client.get("/transparency").get_data(as_text=True)
    assert audit_repo.search(engine, action="audit.review")[0]["data"]["quarter"] == "2026Q3"


def test_web_audit_export_and_purge_need_both_approvals(
        auth: Any, engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    old = add_read(engine, settings.data_dir, world, "7ABC123",
                   datetime.now(UTC) - timedelta(days=800), hit=True)
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    assert auth.post("/compliance/retention/propose").status_code == 403
    auth.logout()
    auth.login("chief")
    built = auth.post("/compliance/audits/export", {"quarter": "2026Q3"},
                      follow_redirects=True)
    assert built.status_code == 200 and "audit-2026Q3" in built.get_data(as_text=True)
    assert auth.post("/compliance/retention/propose").status_code == 303
    pid = str(retention_repo.list_proposals(engine)[0]["id"])
    assert retention_repo.list_proposals(engine)[0]["read_count"] == 1
    assert auth.post("/compliance/retention/council", {
        "proposal_id": pid, "council_meeting_on": datetime.now(UTC).date().isoformat(),
        "council_resolution": "2026-141"}).status_code == 303
    refused = auth.post("/compliance/retention/purge", {"proposal_id": pid})
    assert refused.status_code == 403
    assert "City Attorney permission" in refused.get_data(as_text=True)
    bad = auth.post("/compliance/retention/attorney", {"proposal_id": pid,
                                                       "attorney_name": "Dana",
                                                       "attorney_on": "12/11/2026"})
    assert bad.status_code == 400 and "attorney_on" in bad.get_data(as_text=True)
    assert auth.post("/compliance/retention/attorney", {
        "proposal_id": pid, "attorney_name": "Dana Whitfield",
        "attorney_on": datetime.now(UTC).date().isoformat()}).status_code == 303
    purged = auth.post("/compliance/retention/purge", {"proposal_id": pid},
                       follow_redirects=True)
    assert "1 reads, 1 hits, 2 image files" in purged.get_data(as_text=True)
    assert hold_repo.read_ids_for_uuids(engine, [old]) == {}
    for path, shows in (("/compliance", "#" + pid), ("/compliance/retention", "Purged"),
                        ("/compliance/audits", "audit-2026Q3")):
        page = auth.client.get(path)
        assert page.status_code == 200 and shows in page.get_data(as_text=True), path
