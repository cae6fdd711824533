"""Evidence holds over the API (462.8, 462.10): placed for a case, listed by the client that
placed them, released by it only, packaged under the purpose headers and downloaded by the
package's owner only; each step audited under the client and its owner."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from api_helpers import PROBLEM, PURPOSE, TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.store import audit as audit_repo


def test_hold_package_download_release(client: FlaskClient, engine: Engine,
                                       token_for: TokenFor, world: dict[str, Any]) -> None:
    mine = token_for("officer", name="rms-sync")
    other = token_for("analyst", name="crime-lab")
    made = client.post("/api/v1/holds", headers=bearer(mine), json={
        "case_number": "26-004512", "reason": "Robbery: suspect vehicle passes",
        "read_uuids": world["reads"][:2]})
    assert made.status_code == 201, made.get_json()
    hold = made.get_json()
    assert (hold["read_count"], hold["created_by"]) == (2, "client:rms-sync")
    assert [h["id"] for h in client.get("/api/v1/holds", headers=bearer(mine))
            .get_json()["items"]] == [hold["id"]]
    assert client.get("/api/v1/holds", headers=bearer(other)).get_json()["items"] == []
    # The package shows plates: the purpose headers are required.
    no_purpose = client.post(f"/api/v1/holds/{hold['id']}/packages", headers=bearer(mine))
    assert no_purpose.status_code == 400 and no_purpose.mimetype == PROBLEM
    built = client.post(f"/api/v1/holds/{hold['id']}/packages",
                        headers=bearer(mine, **PURPOSE))
    assert built.status_code == 201, built.get_json()
    package = built.get_json()
    assert package["read_count"] == 2 and package["case_number"] == "26-004512"
    refused = client.get(package["download"], headers=bearer(other))
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    got = client.get(package["download"], headers=bearer(mine))
    assert got.status_code == 200 and got.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(got.get_data())).namelist()
    got.close()
    assert f"{package['name']}/MANIFEST.sha256" in names
    (download,) = [e for e in audit_repo.search(engine, action="export.download_evidence")
                   if e["outcome"] == "allowed"]
    assert (download["actor"], download["data"]["client"]) == ("client:rms-sync", "rms-sync")
    # Only the one who placed it (or an administrator, never a client) releases it.
    assert client.post(f"/api/v1/holds/{hold['id']}/release",
                       headers=bearer(other)).status_code == 403
    released = client.post(f"/api/v1/holds/{hold['id']}/release", headers=bearer(mine))
    assert released.status_code == 200 and released.get_json()["released_by"] == \
        "client:rms-sync"
    (export,) = audit_repo.search(engine, action="export.evidence")
    assert export["case_number"] == "26-004512" and export["purpose"] == PURPOSE[
        "Sightline-Purpose"]


def test_hold_refusals_name_the_field(client: FlaskClient, token_for: TokenFor,
                                      world: dict[str, Any]) -> None:
    token = token_for("analyst")
    no_case = client.post("/api/v1/holds", headers=bearer(token), json={
        "case_number": "", "reason": "x", "read_uuids": world["reads"][:1]})
    assert no_case.status_code == 400 and no_case.get_json()["field"] == "case_number"
    no_reads = client.post("/api/v1/holds", headers=bearer(token), json={
        "case_number": "26-1", "reason": "x", "read_uuids": []})
    assert no_reads.status_code == 400 and no_reads.get_json()["field"] == "read_uuids"
    missing = client.post("/api/v1/holds/999999/release", headers=bearer(token))
    # The use case names the hold (as the UI's form shows it): a 400 naming the field.
    assert missing.status_code == 400 and missing.get_json()["field"] == "hold"
